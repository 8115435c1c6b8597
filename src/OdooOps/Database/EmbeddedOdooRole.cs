using Npgsql;
using OdooOps.Secrets;

namespace OdooOps.Database;

/// <summary>
/// The embedded default for instances' databases: the embedded cluster also holds the Odoo databases, administered
/// by a role of their own (odooops_odoo: LOGIN CREATEDB CREATEROLE, never superuser, never one of OdooOps' roles) whose
/// password lives in the data dir (odoo-db-password, 0600). The embedded runner reaches it over the cluster's Unix
/// socket, which its sandboxes see as one socket file. OdooOps' own database is closed to PUBLIC, so the per-project
/// roles the runner makes cannot even connect to it; the maintenance database ("postgres") only to their group, as Odoo
/// needs it.
/// </summary>
internal static class EmbeddedOdooRole
{
    public const string Name = "odooops_odoo";

    /// <summary>Makes (or updates) the role; answers the connection string the embedded runner uses (OPS_ODOO_DB).</summary>
    public static async Task<string> EnsureAsync(LocalPostgres local, string dataDir, CancellationToken ct)
    {
        var file = Path.Combine(dataDir, "odoo-db-password");
        if (!File.Exists(file)) PrivateFile.Write(file, Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24)));
        var password = File.ReadAllText(file).Trim();
        var owner = local.ConnectionString("postgres");
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(owner.ConnectionString) { Pooling = false }.ConnectionString);
        await conn.OpenAsync(ct);
        var ops = LocalPostgres.DatabaseName;
        var statements = new List<string>
        {
            $"do $$ begin if not exists (select 1 from pg_roles where rolname = '{Name}') then create role {Name} login createdb createrole; end if; end $$",
            // The password is hex: nothing to escape in the literal (ALTER ROLE takes no parameters).
            // A password set again gets a new salt, and a login of the role at that moment fails: only when it changed.
            $"alter role {Name} with login createdb createrole nosuperuser" + (await LogsInAsync(local, password, ct) ? "" : $" password '{password}'"),
            $"revoke connect on database {ops} from public",
            "revoke connect on database postgres from public",
            $"grant connect on database postgres to {Name}",
            // Odoo connects to "postgres" to look its database up and list databases (it cannot run without): the
            // projects' roles may, and can do nothing there (no CREATE on its public schema since PostgreSQL 15).
            $"do $$ begin if not exists (select 1 from pg_roles where rolname = '{Runners.Agent.Instances.OdooDatabaseServer.TenantGroup}') then create role {Runners.Agent.Instances.OdooDatabaseServer.TenantGroup} nologin; end if; end $$",
            $"grant connect on database postgres to {Runners.Agent.Instances.OdooDatabaseServer.TenantGroup}",
        };
        // OdooOps' login roles keep their way in (a cluster where OdooOps has not run yet has none).
        statements.AddRange(LoginRoles.NamesFor(ops).Select(role =>
            $"do $$ begin if exists (select 1 from pg_roles where rolname = '{role}') then grant connect on database {ops} to {role}; end if; end $$"));
        // Role and grant changes of two starts at once fail ("tuple concurrently updated"): one at a time per cluster,
        // the same lock the runners take for the projects' roles (released with the connection).
        await using (var lockCmd = new NpgsqlCommand("select pg_advisory_lock(hashtext('odooops: odoo roles'))", conn))
            await lockCmd.ExecuteNonQueryAsync(ct);
        foreach (var sql in statements)
        {
            await using var cmd = new NpgsqlCommand(sql, conn);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        return Connection(local, password).ConnectionString;
    }

    static NpgsqlConnectionStringBuilder Connection(LocalPostgres local, string password) => new()
    {
        Host = local.SocketDirectory, Port = local.Port, Username = Name, Password = password, Database = "postgres",
    };

    static async Task<bool> LogsInAsync(LocalPostgres local, string password, CancellationToken ct)
    {
        try
        {
            await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(Connection(local, password).ConnectionString) { Pooling = false, Timeout = 5 }.ConnectionString);
            await conn.OpenAsync(ct);
            return true;
        }
        catch (PostgresException) { return false; } // no such role yet, or another password
    }
}
