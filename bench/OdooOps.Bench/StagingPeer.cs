using System.Diagnostics;
using OdooOps.Database;
using OdooOps.Runners.Agent.Backups;
using OdooOps.Runners.Agent.Instances;

namespace OdooOps.Bench;

/// <summary>
/// The staging refresh an operator would script without OdooOps, on the same production: its backup is `pg_dump -Fc`
/// plus a tar of the filestore in a backup folder; the refresh copies both to a work folder (cp), makes the database
/// (createdb), restores it (pg_restore with the runner's --jobs, as the project's staging role), extracts the
/// filestore (tar, after pg_restore, as a script does), runs the same neutralisation SQL through psql (neutralize.sql
/// and its check), and starts the same stand-in the same way.
/// </summary>
static class StagingPeer
{
    const string Database = "bench_staging_plain";

    public sealed record Backup(string Dump, string Tar);

    public static async Task<Backup> PrepareAsync(BenchProduction production, PostgresBinaries postgres, string folder)
    {
        Directory.CreateDirectory(folder);
        var backup = new Backup(Path.Combine(folder, "production.dump"), Path.Combine(folder, "filestore.tar"));
        var env = production.World.Server.ProjectClientEnvironment(production.World.ProjectId, true).ToDictionary();
        await BenchProduction.RunAsync(postgres.Tool("pg_dump"), ["-Fc", "-f", backup.Dump, BenchProduction.Database], env);
        await BenchProduction.RunAsync("tar", ["-cf", backup.Tar, "-C", production.Filestore, "."], null);
        return backup;
    }

    public static async Task<StagingRound> RoundAsync(LocalPostgres pg, StandInUpstream.World staging, Backup backup, PostgresBinaries postgres, string dir)
    {
        var (server, project) = (staging.Server, staging.ProjectId);
        var work = Path.Combine(dir, "script-work");
        var dataDir = Path.Combine(dir, "script-data");
        var role = server.ProjectClientEnvironment(project, false);
        var admin = pg.ConnectionString();
        var superuser = new Dictionary<string, string>
        {
            ["PGHOST"] = admin.Host!, ["PGPORT"] = admin.Port.ToString(), ["PGUSER"] = admin.Username!, ["PGPASSWORD"] = admin.Password!,
        };
        var sql = Path.Combine(dir, "neutralize.sql");
        await using (var stream = typeof(Neutralizer).Assembly.GetManifestResourceStream("Backups/neutralize.sql")!)
        await using (var file = File.Create(sql)) await stream.CopyToAsync(file);
        var clock = Stopwatch.StartNew();
        try
        {
            Directory.CreateDirectory(work);
            await BenchProduction.RunAsync("cp", [backup.Dump, backup.Tar, work], null);
            var fetched = clock.Elapsed;
            await BenchProduction.RunAsync(postgres.Tool("createdb"),
                ["-O", OdooDatabaseServer.ProjectRole(project, false), "-T", "template0", "-E", "UTF8", Database], superuser);
            await BenchProduction.RunAsync(postgres.Tool("pg_restore"), ["--no-owner", "--no-privileges", "--exit-on-error",
                $"--jobs={Math.Clamp(Environment.ProcessorCount, 1, 4)}", "--dbname", Database, Path.Combine(work, Path.GetFileName(backup.Dump))], role);
            var loaded = clock.Elapsed;
            var filestore = Directory.CreateDirectory(OdooData.FilestoreOf(dataDir, Database)).FullName;
            await BenchProduction.RunAsync("tar", ["-xf", Path.Combine(work, Path.GetFileName(backup.Tar)), "-C", filestore], null);
            var restored = clock.Elapsed;
            await BenchProduction.RunAsync(postgres.Tool("psql"), ["--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1", "--dbname", Database, "-f", sql,
                "-c", $"select * from pg_temp.odooops_neutralize('{StagingBench.BaseUrl}', true)",
                "-c", $"select * from pg_temp.odooops_neutralization_check('{StagingBench.BaseUrl}')"], role);
            var neutralised = clock.Elapsed;
            await using (await StandInUpstream.ServeAsync(staging with { DataDir = dataDir }, Database, 0, "/web/login")) { }
            var serving = clock.Elapsed;
            // Not timed: the script's copy is as neutral as the runner's.
            var check = await new Neutralizer(server).CheckAsync(project, false, Database, StagingBench.BaseUrl, default);
            if (!check.Passed) throw new InvalidOperationException($"the script's neutralisation failed the check: {check.Failures}");
            return new StagingRound(fetched.TotalSeconds, (restored - fetched).TotalSeconds, (neutralised - restored).TotalSeconds,
                (serving - neutralised).TotalSeconds,
                $"restore: createdb + pg_restore {(loaded - fetched).TotalSeconds:F2} s, then tar -x {(restored - loaded).TotalSeconds:F2} s");
        }
        finally
        {
            await StagingBench.DropDatabaseAsync(pg, server, Database);
            StagingBench.DeleteFolder(work);
            StagingBench.DeleteFolder(dataDir);
        }
    }
}
