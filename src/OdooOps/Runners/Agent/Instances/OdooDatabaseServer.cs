using System.Security.Cryptography;
using System.Text;
using Npgsql;
using OdooOps.Database;

namespace OdooOps.Runners.Agent.Instances;

/// <summary>
/// The PostgreSQL server the runner host's Odoo databases live on (OPS_ODOO_DB), reached through an administrative
/// role with CREATEDB and CREATEROLE that never leaves the runner. Each project gets a login role of its own that owns
/// its databases, whose CONNECT is revoked from PUBLIC: one tenant's Odoo cannot open another's database. Its password
/// is derived from the admin's (HMAC-SHA256 of the project id), so every runner sharing the server agrees on it without
/// storing it, and it is set again at each use. Odoo gets the project role only, through PG* variables (never a command
/// line, which `ps` shows to the host). A server reached over a Unix socket is shown to the sandbox as that one socket
/// file at /run/postgresql; over TCP the sandbox's outbound network reaches it (not on the runner's loopback).
/// </summary>
public sealed class OdooDatabaseServer
{
    public const string ConnectionKey = "OPS_ODOO_DB";

    /// <summary>Where the socket is shown inside the sandbox.</summary>
    public const string SandboxSocketDir = "/run/postgresql";

    /// <summary>The group every project role is in (pg_hba rules and grants can name it).</summary>
    public const string TenantGroup = "odooops_odoo_tenants";

    readonly NpgsqlConnectionStringBuilder _admin;

    public OdooDatabaseServer(NpgsqlConnectionStringBuilder admin) => _admin = admin;

    public static OdooDatabaseServer? From(string? connection) =>
        string.IsNullOrWhiteSpace(connection) ? null : new OdooDatabaseServer(DatabaseUrl.Parse(connection.Trim()));

    bool OverSocket => _admin.Host is { } host && host.StartsWith('/');
    int Port => _admin.Port;

    /// <summary>The socket file to bind into the sandbox (source on the host, target inside); none over TCP.</summary>
    public IReadOnlyList<(string Source, string Target)> SocketBinds => OverSocket
        ? [(Path.Combine(_admin.Host!, $".s.PGSQL.{Port}"), Path.Combine(SandboxSocketDir, $".s.PGSQL.{Port}"))]
        : [];

    public static string ProjectRole(Guid projectId, bool production) => "oo_" + projectId.ToString("N") + (production ? "_prod" : "");

    string ProjectPassword(Guid projectId, bool production) =>
        Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(_admin.Password ?? ""),
            Encoding.UTF8.GetBytes("odooops-project-role:" + ProjectRole(projectId, production)))).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The variables Odoo (libpq under psycopg2) connects with: the project's role on this server.</summary>
    public IReadOnlyDictionary<string, string> OdooEnvironment(Guid projectId, bool production) => new Dictionary<string, string>
    {
        ["PGHOST"] = OverSocket ? SandboxSocketDir : _admin.Host ?? "localhost",
        ["PGPORT"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["PGUSER"] = ProjectRole(projectId, production),
        ["PGPASSWORD"] = ProjectPassword(projectId, production),
        ["PGDATABASE"] = "postgres",
    };

    /// <summary>
    /// The project's role as the runner itself connects with it (pg_dump, pg_restore, backup checks): the tenant's own
    /// rights only, so nothing in a tenant's database (an index expression, a function, a pg_dump race) ever runs as
    /// the admin.
    /// </summary>
    public NpgsqlConnectionStringBuilder ProjectConnection(Guid projectId, bool production, string database) =>
        new(_admin.ConnectionString)
        {
            Username = ProjectRole(projectId, production), Password = ProjectPassword(projectId, production), Database = database, Pooling = false,
        };

    /// <summary>libpq's variables for the runner's own client programs (pg_dump, pg_restore) as the project's role.</summary>
    public IReadOnlyDictionary<string, string> ProjectClientEnvironment(Guid projectId, bool production)
    {
        var env = new Dictionary<string, string>(OdooEnvironment(projectId, production)) { ["PGHOST"] = _admin.Host ?? "localhost" };
        if (_admin.SslMode is var ssl && ssl != SslMode.Prefer)
            env["PGSSLMODE"] = ssl switch { SslMode.VerifyCA => "verify-ca", SslMode.VerifyFull => "verify-full", _ => ssl.ToString().ToLowerInvariant() };
        return env;
    }

    /// <summary>The project's role (made or given its password again) and the database, owned by it, private to it.</summary>
    public Task EnsureDatabaseAsync(Guid projectId, bool production, string database, CancellationToken ct) =>
        MakeDatabaseAsync(projectId, production, database, mustBeNew: false, ct);

    /// <summary>A new database for a restore, made as <see cref="EnsureDatabaseAsync"/> makes one; fails if it exists.</summary>
    public Task CreateDatabaseAsync(Guid projectId, bool production, string database, CancellationToken ct) =>
        MakeDatabaseAsync(projectId, production, database, mustBeNew: true, ct);

    async Task MakeDatabaseAsync(Guid projectId, bool production, string database, bool mustBeNew, CancellationToken ct)
    {
        var role = ProjectRole(projectId, production);
        await using var conn = await OpenAsync(ct);
        // Roles are the cluster's, and two builds or starts making the same one at once fail ("tuple concurrently
        // updated"): one at a time, across every runner of this server (released with the connection).
        await ExecAsync(conn, "select pg_advisory_lock(hashtext('odooops: odoo roles'))", ct);
        await ExecAsync(conn, $"""
            do $$
            begin
                if not exists (select 1 from pg_roles where rolname = '{TenantGroup}') then
                    create role {TenantGroup} nologin;
                end if;
                if not exists (select 1 from pg_roles where rolname = '{role}') then
                    create role {role} login nocreatedb nocreaterole in role {TenantGroup};
                end if;
            end $$
            """, ct);
        // The password is a literal in the statement (ALTER ROLE takes no parameters): it is base64url, nothing to escape.
        await ExecAsync(conn, $"alter role {role} with login inherit password '{ProjectPassword(projectId, production)}'", ct);
        // CREATE DATABASE … OWNER needs the admin to be a member of the owner.
        await ExecAsync(conn, $"grant {role} to current_user", ct, ignore: "42710");
        await using (var exists = new NpgsqlCommand("select 1 from pg_database where datname = $1", conn) { Parameters = { new() { Value = database } } })
            if (await exists.ExecuteScalarAsync(ct) is null)
                await ExecAsync(conn, $"create database {Quote(database)} owner {role} template template0 encoding 'UTF8'", ct, ignore: mustBeNew ? null : "42P04");
            else if (mustBeNew)
                throw new InvalidOperationException($"The database {database} exists already.");
        await ExecAsync(conn, $"revoke connect, temporary on database {Quote(database)} from public", ct);
        await ExecAsync(conn, $"grant connect, temporary on database {Quote(database)} to {role}", ct);
    }

    /// <summary>Drops a retired instance's database, ending its sessions first.</summary>
    public async Task DropDatabaseAsync(string database, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await DropAsync(conn, database, ct);
    }

    /// <summary>
    /// DROP … WITH (FORCE), which ends the database's sessions. PostgreSQL 15 refuses it to a non-superuser while an
    /// autovacuum worker is in the database (as after a restore's bulk load): a plain DROP stops such a worker itself.
    /// </summary>
    static async Task DropAsync(NpgsqlConnection conn, string database, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await ExecAsync(conn, $"drop database if exists {Quote(database)} with (force)", ct);
                return;
            }
            catch (PostgresException e) when (e.SqlState == "42501" && attempt < 5)
            {
                try
                {
                    await ExecAsync(conn, $"drop database if exists {Quote(database)}", ct);
                    return;
                }
                catch (PostgresException busy) when (busy.SqlState == "55006") { } // a session came back: FORCE again
            }
        }
    }

    /// <summary>
    /// Puts <paramref name="restored"/> in the place of <paramref name="live"/> in one transaction (both renames or
    /// neither): the live name never points at a half-restored database, and a crash leaves one or the other whole.
    /// The old database keeps living as <paramref name="previous"/> until the caller drops it. Sessions on either end first.
    /// </summary>
    public async Task ReplaceDatabaseAsync(string live, string restored, string previous, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using (var end = new NpgsqlCommand("select pg_terminate_backend(pid) from pg_stat_activity where datname = any($1) and pid <> pg_backend_pid()", conn)
                         { Parameters = { new() { Value = new[] { live, restored } } } })
            await end.ExecuteNonQueryAsync(ct);
        await DropAsync(conn, previous, ct); // a leftover of an earlier try (DROP cannot be in the transaction)
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var exists = new NpgsqlCommand("select 1 from pg_database where datname = $1", conn) { Parameters = { new() { Value = live } } })
            if (await exists.ExecuteScalarAsync(ct) is not null)
                await ExecAsync(conn, $"alter database {Quote(live)} rename to {Quote(previous)}", ct);
        await ExecAsync(conn, $"alter database {Quote(restored)} rename to {Quote(live)}", ct);
        await tx.CommitAsync(ct);
    }

    async Task<NpgsqlConnection> OpenAsync(CancellationToken ct)
    {
        var builder = new NpgsqlConnectionStringBuilder(_admin.ConnectionString) { Database = _admin.Database ?? "postgres", Pooling = false };
        var conn = new NpgsqlConnection(builder.ConnectionString);
        await conn.OpenAsync(ct);
        return conn;
    }

    static async Task ExecAsync(NpgsqlConnection conn, string sql, CancellationToken ct, string? ignore = null)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        try { await cmd.ExecuteNonQueryAsync(ct); }
        catch (PostgresException e) when (e.SqlState == ignore) { }
    }

    static string Quote(string name) => "\"" + name.Replace("\"", "\"\"") + "\"";
}
