using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;

namespace OdooOps.Database;

/// <summary>
/// Requests never run as the owner. Each database has two NOLOGIN group roles of its own (<see cref="RequestRoles"/>:
/// the app group, bound by RLS; the service group, for internal SECURITY DEFINER functions); here the owner gives this
/// database a login role in each, with a random password kept in the owner-only table ops_private.login_roles so every
/// replica finds the same one. Names carry a hash of the database name: roles are cluster-wide, databases in one
/// cluster must not share them.
/// </summary>
public static class LoginRoles
{
    public sealed record Credentials(NpgsqlConnectionStringBuilder App, NpgsqlConnectionStringBuilder Service);

    /// <summary>The login roles of a database: app, then service.</summary>
    public static IReadOnlyList<string> NamesFor(string database)
    {
        var suffix = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(database)))[..10];
        return [$"odooops_app_{suffix}", $"odooops_svc_{suffix}"];
    }

    public static async Task<Credentials> EnsureAsync(NpgsqlConnectionStringBuilder owner, CancellationToken ct = default)
    {
        await using var conn = new NpgsqlConnection(owner.ConnectionString);
        await conn.OpenAsync(ct);
        // The migration lock: the group roles and their privileges are the migrator's too.
        await conn.ExecuteAsync("select pg_advisory_lock(@LockKey)", new { Migrator.LockKey });
        try
        {
            var database = (await conn.ExecuteScalarAsync<string>("select current_database()"))!;
            var groups = RequestRoles.For(database);
            await RequestRoles.EnsureAsync(conn, groups);
            var names = NamesFor(database);
            // Rows of other databases' logins (this one is a copy or a restore of theirs) are no business of this one:
            // their passwords would let its owner into the other database.
            await conn.ExecuteAsync("delete from ops_private.login_roles where role_name <> all (@names)", new { names = names.ToArray() });
            var app = await EnsureRoleAsync(conn, names[0], groups.App);
            var service = await EnsureRoleAsync(conn, names[1], groups.Service);
            return new Credentials(With(owner, app, "odooops-app"), With(owner, service, "odooops-service"));
        }
        finally
        {
            await conn.ExecuteAsync("select pg_advisory_unlock(@LockKey)", new { Migrator.LockKey });
        }
    }

    static async Task<(string Name, string Password)> EnsureRoleAsync(NpgsqlConnection conn, string name, string group)
    {
        var stored = await conn.ExecuteScalarAsync<string?>(
            "select password from ops_private.login_roles where role_name = @name", new { name });
        var exists = await conn.ExecuteScalarAsync<bool>("select exists (select 1 from pg_roles where rolname = @name)", new { name });
        // Short OLTP queries never win from JIT compilation, and its cost (≈10 ms) dwarfs them; the setting is
        // per role so an operator's own sessions keep the server default.
        if (stored is not null && exists)
        {
            await conn.ExecuteAsync($"alter role {name} set jit = off; grant {group} to {name}");
            return (name, stored);
        }

        // Hex only: safe to place in the statement (CREATE ROLE takes no parameters).
        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        await using var tx = await conn.BeginTransactionAsync();
        await conn.ExecuteAsync(exists
            ? $"alter role {name} with login nobypassrls password '{password}'"
            : $"create role {name} login nobypassrls password '{password}'", transaction: tx);
        await conn.ExecuteAsync($"grant {group} to {name}", transaction: tx);
        await conn.ExecuteAsync($"alter role {name} set jit = off", transaction: tx);
        await conn.ExecuteAsync("""
            insert into ops_private.login_roles (role_name, password) values (@name, @password)
            on conflict (role_name) do update set password = excluded.password
            """, new { name, password }, tx);
        await tx.CommitAsync();
        return (name, password);
    }

    static NpgsqlConnectionStringBuilder With(NpgsqlConnectionStringBuilder owner, (string Name, string Password) role, string applicationName) =>
        new(owner.ConnectionString)
        {
            Username = role.Name,
            Password = role.Password,
            ApplicationName = applicationName,
        };
}
