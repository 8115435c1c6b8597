using Dapper;
using Npgsql;
using OdooOps.Secrets;

namespace OdooOps.Database;

/// <summary>pg_dump / pg_restore of OdooOps' own schemas (custom format), with the client binaries found on this machine.</summary>
internal sealed class DbBackup(NpgsqlConnectionStringBuilder owner)
{
    /// <summary>Everything OdooOps owns, the migration journal included, so a restore matches its schema version.</summary>
    static readonly string[] Schemas = ["registry", "ops", "ops_partitions", "ops_private"];

    public static string DefaultPath(string dataDir) =>
        Path.Combine(dataDir, "backups", $"odooops-{DateTime.UtcNow:yyyyMMdd-HHmmss}.dump");

    /// <summary>True when the registry holds any organisation: a database worth a backup before migrating.</summary>
    public static async Task<bool> HoldsDataAsync(NpgsqlConnection conn) =>
        await conn.ExecuteScalarAsync<bool>("select to_regclass('registry.orgs') is not null") &&
        await conn.ExecuteScalarAsync<bool>("select exists (select 1 from registry.orgs)");

    /// <summary>
    /// The dump holds every password hash, token hash and key of the database: the file is ours and 0600 before pg_dump
    /// opens it (pg_dump would create it with the umask's mode, 0644 as a rule), in a folder only we may enter.
    /// </summary>
    public async Task<string> BackupAsync(string file, CancellationToken ct = default)
    {
        file = Path.GetFullPath(file);
        var folder = Path.GetDirectoryName(file)!;
        if (!Directory.Exists(folder)) Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        PrivateFile.Create(file);
        var args = new List<string> { "--format=custom", "--no-owner", "--file", file };
        foreach (var s in Schemas) args.AddRange(["--schema", s]);
        args.Add(owner.Database!);
        var result = await Binaries().RunClientToolAsync("pg_dump", [.. ConnectionArgs(), .. args], Env(), ct);
        if (result.ExitCode != 0)
        {
            File.Delete(file);
            throw new InvalidOperationException($"pg_dump failed: {result.Describe()}");
        }
        return file;
    }

    /// <summary>
    /// Replaces OdooOps' schemas with the backup's, in one transaction: on failure nothing changes.
    /// pg_restore --clean cannot drop partitions' inherited constraints, so the dump is turned into SQL and run
    /// by psql after dropping the schemas, all inside a single transaction.
    /// </summary>
    public async Task RestoreAsync(string file, CancellationToken ct = default)
    {
        if (!File.Exists(file)) throw new FileNotFoundException($"Backup file {file} does not exist.");
        var bin = Binaries();
        var sql = Path.Combine(Path.GetTempPath(), $"odooops-restore-{Guid.NewGuid():N}.sql");
        try
        {
            var script = await bin.RunClientToolAsync("pg_restore", ["--no-owner", "--file", "-", Path.GetFullPath(file)], null, ct);
            if (script.ExitCode != 0)
                throw new InvalidOperationException($"{file} is not a backup pg_restore can read: {script.Describe()}");
            PrivateFile.Write(sql, $"drop schema if exists {string.Join(", ", Schemas)} cascade;\n" + script.Output);
            NpgsqlConnection.ClearAllPools();
            var result = await bin.RunClientToolAsync("psql",
                [.. ConnectionArgs(), "--dbname", owner.Database!, "--single-transaction", "--no-psqlrc", "--quiet",
                 "--set", "ON_ERROR_STOP=1", "--file", sql], Env(), ct);
            if (result.ExitCode != 0)
                throw new InvalidOperationException($"Restore failed, nothing was changed: {result.Describe()}");
        }
        finally
        {
            File.Delete(sql);
        }
    }

    static PostgresBinaries Binaries()
    {
        try { return PostgresBinaries.Locate(); }
        catch (PostgresNotInstalledException)
        {
            throw new PostgresNotInstalledException("pg_dump/pg_restore were not found. Install them with 'sudo apt-get install postgresql-client'.");
        }
    }

    List<string> ConnectionArgs() => ["--host", owner.Host!, "--port", owner.Port.ToString(), "--username", owner.Username ?? "postgres", "--no-password"];

    // The password goes through the environment, never the command line (visible in ps).
    Dictionary<string, string> Env()
    {
        var env = new Dictionary<string, string>();
        if (!string.IsNullOrEmpty(owner.Password)) env["PGPASSWORD"] = owner.Password;
        if (owner.SslMode is SslMode.Require or SslMode.VerifyCA or SslMode.VerifyFull) env["PGSSLMODE"] = owner.SslMode.ToString().ToLowerInvariant() switch
        {
            "verifyca" => "verify-ca",
            "verifyfull" => "verify-full",
            var m => m,
        };
        return env;
    }
}
