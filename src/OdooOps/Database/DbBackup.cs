using Dapper;
using Npgsql;

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

    public async Task<string> BackupAsync(string file, CancellationToken ct = default)
    {
        file = Path.GetFullPath(file);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var args = new List<string> { "--format=custom", "--no-owner", "--file", file };
        foreach (var s in Schemas) args.AddRange(["--schema", s]);
        args.Add(owner.Database!);
        var result = await Binaries().RunClientToolAsync("pg_dump", [.. ConnectionArgs(), .. args], Env(), ct);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"pg_dump failed: {result.Describe()}");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
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
            await File.WriteAllTextAsync(sql, $"drop schema if exists {string.Join(", ", Schemas)} cascade;\n", ct);
            File.SetUnixFileMode(sql, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var script = await bin.RunClientToolAsync("pg_restore", ["--no-owner", "--file", "-", Path.GetFullPath(file)], null, ct);
            if (script.ExitCode != 0)
                throw new InvalidOperationException($"{file} is not a backup pg_restore can read: {script.Describe()}");
            await File.AppendAllTextAsync(sql, script.Output, ct);
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
