using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using OdooOps.Backups.Storage;
using OdooOps.Database;
using OdooOps.Runners.Agent;
using OdooOps.Runners.Agent.Backups;
using OdooOps.Runners.Agent.Instances;
using OdooOps.Runners.Agent.Sandbox;
using OdooOps.Runners.Agent.Tasks;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Bench;

/// <summary>One staging refresh, timed by phase (seconds): fetch the backup, restore it, neutralise, start serving.</summary>
sealed record StagingRound(double Fetch, double Restore, double Neutralise, double Start, string Detail)
{
    public double Total => Fetch + Restore + Neutralise + Start;
}

/// <summary>
/// Issue 13's "staging refresh end to end": what a user waits for when a staging build refreshes from production, from
/// a verified production backup in serve's folder storage to the staging copy serving. The runner's own classes:
/// StagingRefresh.CopyAsync (the zip downloaded through DispatchClient, the build's empty database dropped,
/// BackupRestorer into the staging database and filestore), Neutralisation (OdooOps' SQL: the stand-in claims 15.0,
/// before Odoo had `odoo-bin neutralize`, so no sandbox is needed), then the stand-in odoo-bin started on the copy
/// until /web/login answers 200 (it reads the database). Same run, the plain script an operator would write
/// (<see cref="StagingPeer"/>), rounds alternating which goes first. Not in the figure: the staging code's update
/// (it depends on the code), the second neutralisation after it (as long as the first), the sandbox of the instance.
/// </summary>
public static class StagingBench
{
    internal const string OdooVersion = "15.0";
    internal const string BaseUrl = "https://staging.bench.example";
    const string Staging = "bench_staging";

    public static async Task<int> RunAsync(string[] args)
    {
        int Get(string name, int fallback) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
        var (dbMb, files, rounds) = (Get("--db-mb", 500), Get("--files", 2000), Get("--rounds", 3));
        Console.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()} ({Environment.ProcessorCount} CPUs; run on a quiet machine)");
        var dir = Path.Combine(Path.GetTempPath(), $"odooops-bench-{Guid.NewGuid():N}"[..28]);
        Directory.CreateDirectory(dir);
        await using var pg = await LocalPostgres.StartAsync(Path.Combine(dir, "pg-data"));
        try
        {
            var production = await BenchProduction.CreateAsync(pg, dir, dbMb, files, OdooVersion);
            var (world, server, project) = (production.World, production.World.Server, production.World.ProjectId);
            var postgres = PostgresBinaries.LocateClients();
            Console.WriteLine($"production: {production}");

            // Production's backup, as the runner takes it, verified as every new backup is, then kept by serve's folder storage.
            var storage = new FolderBackupStorage(Path.Combine(dir, "storage"));
            var (backupId, branchId) = (Guid.NewGuid(), Guid.NewGuid());
            var key = BackupKeys.For(project, branchId, backupId);
            var zip = Path.Combine(dir, "production.zip");
            var clock = Stopwatch.StartNew();
            await using (var output = new FileStream(zip, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
                await new BackupWriter(server, postgres).WriteAsync(production.Data, OdooVersion, output, null, default);
            var backedUp = clock.Elapsed.TotalSeconds;
            clock.Restart();
            var verifyData = Directory.CreateDirectory(Path.Combine(dir, "verify-data", "filestore")).Parent!.FullName;
            var verification = await new BackupVerifier(new BackupRestorer(server, postgres, null), server).VerifyAsync(zip, project, true,
                "bench_verify", OdooData.FilestoreOf(verifyData, "bench_verify"), null, null, default);
            if (!verification.Passed) throw new InvalidOperationException($"the production backup failed its verification: {verification.Reason}");
            Console.WriteLine($"production backup: {new FileInfo(zip).Length >> 20} MiB zip in {backedUp:F2} s, verified in {clock.Elapsed.TotalSeconds:F2} s");
            await using (var read = File.OpenRead(zip)) await storage.PutAsync(key, read, long.MaxValue, default);
            File.Delete(zip);
            var plain = await StagingPeer.PrepareAsync(production, postgres, Path.Combine(dir, "storage", "plain"));
            Console.WriteLine($"the operator's backup: pg_dump -Fc {new FileInfo(plain.Dump).Length >> 20} MiB + tar {new FileInfo(plain.Tar).Length >> 20} MiB; {rounds} rounds");

            var stagingEnv = server.OdooEnvironment(project, false).ToDictionary();
            stagingEnv["PGHOST"] = pg.SocketDirectory;
            stagingEnv["STANDIN_ODOO_VERSION"] = OdooVersion;
            var stagingWorld = world with { Env = stagingEnv };
            var options = new RunnerOptions("bench", 1, [], Path.Combine(dir, "runner"))
            {
                Sandbox = new SandboxSettings { Enabled = false }, // the runner's restorer only sandboxes plain SQL; this zip holds dump.dump
                Instances = new InstanceHosting { Database = server },
            };
            var roundClock = new Stopwatch();
            var handler = new BenchArtifactServer.Handler(roundClock);
            await using var artifacts = await BenchArtifactServer.StartAsync(storage, id => id == backupId ? key : throw new KeyNotFoundException());
            using var client = new DispatchClient(artifacts.Url, "oo_run_bench", handler);
            var uids = new SandboxUids(options.Sandbox);
            await using var supervisor = new InstanceSupervisor(client, options, uids, NullLogger.Instance);
            // The staging role exists from the project's first staging build on.
            await server.EnsureDatabaseAsync(project, false, Staging, default);
            await server.DropDatabaseAsync(Staging, default);

            var runner = new List<StagingRound>();
            var script = new List<StagingRound>();
            long restoredBytes = 0;
            for (var round = 0; round < rounds; round++)
            {
                for (var turn = 0; turn < 2; turn++)
                    if ((round + turn) % 2 == 0)
                    {
                        runner.Add(await RunnerRoundAsync());
                        Console.WriteLine($"round {round + 1}: runner  {Line(runner[^1])}");
                    }
                    else
                    {
                        script.Add(await StagingPeer.RoundAsync(pg, stagingWorld, plain, postgres, dir));
                        Console.WriteLine($"round {round + 1}: script  {Line(script[^1])}");
                    }
            }

            Console.WriteLine($"staging copy: {restoredBytes >> 20} MiB database (on disk) + filestore; medians of {rounds} rounds, seconds:");
            Console.WriteLine("  phase                 runner   script");
            foreach (var (name, of) in new (string, Func<StagingRound, double>)[]
                     {
                         ("download / fetch", r => r.Fetch), ("restore", r => r.Restore), ("download + restore", r => r.Fetch + r.Restore),
                         ("neutralise", r => r.Neutralise), ("start (/web/login 200)", r => r.Start), ("total", r => r.Total),
                     })
                Console.WriteLine($"  {name,-22}{Median(runner, of),7:F2}  {Median(script, of),7:F2}");
            var ratio = Median(script, r => r.Total) / Median(runner, r => r.Total);
            Console.WriteLine($"staging refresh ratio (script / runner) = {ratio:F2}   (1.00: as fast as the plain script; above: faster)");
            return 0;

            async Task<StagingRound> RunnerRoundAsync()
            {
                var job = new Job(Guid.NewGuid(), Guid.NewGuid(), 60, 1, project, "bench", OdooVersion, "file:///bench", null, "staging", "staging", "push", 0,
                    new Dictionary<string, string>());
                var dataDir = Path.Combine(dir, "staging-data");
                var said = new List<(TimeSpan At, string Text)>();
                void Say(string text) => said.Add((roundClock.Elapsed, text));
                handler.Finished = null;
                // When the restorer begins (its scratch folder beside the zip): splits the wait after the download.
                var deploys = Directory.CreateDirectory(SafeDeploy.Folder(options, job.BuildId)).FullName;
                TimeSpan? restoring = null;
                using var watcher = new FileSystemWatcher(deploys) { NotifyFilter = NotifyFilters.DirectoryName, EnableRaisingEvents = true };
                watcher.Created += (_, e) => { if (e.Name!.Contains(".restore-", StringComparison.Ordinal)) restoring ??= roundClock.Elapsed; };
                roundClock.Restart();
                try
                {
                    // As BuildExecutor: the build's (empty) database first, then the copy takes its place.
                    await server.EnsureDatabaseAsync(project, false, Staging, default);
                    Directory.CreateDirectory(dataDir);
                    if (!await new StagingRefresh(client, options, supervisor, uids, job, Say).CopyAsync(server, new StagingCopy(backupId, null, null), Staging, dataDir, default))
                        throw new InvalidOperationException("the staging refresh found nothing to copy");
                    var restored = roundClock.Elapsed;
                    await new Neutralisation(options, uids, Say).RunAsync(project, Staging, OdooVersion, world.Tree, BaseUrl, default);
                    var neutralised = roundClock.Elapsed;
                    await using (await StandInUpstream.ServeAsync(stagingWorld with { DataDir = dataDir }, Staging, 0, "/web/login")) { }
                    var serving = roundClock.Elapsed;
                    await using (var conn = new NpgsqlConnection(server.ProjectConnection(project, false, Staging).ConnectionString))
                    {
                        await conn.OpenAsync();
                        restoredBytes = (long)(await new NpgsqlCommand($"select pg_database_size('{Staging}')", conn).ExecuteScalarAsync())!;
                    }
                    var downloaded = handler.Finished ?? throw new InvalidOperationException("the download's end was not seen");
                    var unpacked = said.First(s => s.Text.StartsWith("Dump extracted", StringComparison.Ordinal)).At;
                    var loaded = said.First(s => s.Text.StartsWith("Database restored", StringComparison.Ordinal)).At;
                    return new StagingRound(downloaded.TotalSeconds, (restored - downloaded).TotalSeconds, (neutralised - restored).TotalSeconds,
                        (serving - neutralised).TotalSeconds,
                        $"restore: drop of the build's empty database {((restoring ?? downloaded) - downloaded).TotalSeconds:F2} s, dump out of the zip "
                        + $"{(unpacked - (restoring ?? downloaded)).TotalSeconds:F2} s, then pg_restore ‖ filestore {(loaded - unpacked).TotalSeconds:F2} s");
                }
                finally
                {
                    await DropDatabaseAsync(pg, server, Staging);
                    DeleteFolder(dataDir);
                    DeleteFolder(SafeDeploy.Folder(options, job.BuildId)); // the build's end removes it in the runner
                }
            }
        }
        finally
        {
            await pg.StopAsync();
            DeleteFolder(dir);
        }
    }

    static string Line(StagingRound r) =>
        $"{r.Fetch:F2} + {r.Restore:F2} + {r.Neutralise:F2} + {r.Start:F2} = {r.Total:F2} s (fetch, restore, neutralise, start; {r.Detail})";

    static double Median(List<StagingRound> rounds, Func<StagingRound, double> of) => rounds.Select(of).Order().ElementAt(rounds.Count / 2);

    /// <summary>
    /// The runner's drop (the Odoo admin, WITH (FORCE)); when PostgreSQL refuses it (42501: an autovacuum worker is in
    /// the freshly restored database, and FORCE wants rights over its role, which is none), who held it is said and the
    /// cluster's superuser drops it, so that the bench leaves nothing behind.
    /// </summary>
    internal static async Task DropDatabaseAsync(LocalPostgres pg, OdooDatabaseServer server, string database)
    {
        try { await server.DropDatabaseAsync(database, default); }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            await using var conn = new NpgsqlConnection(pg.ConnectionString().ConnectionString);
            await conn.OpenAsync();
            await using (var who = new NpgsqlCommand(
                "select string_agg(backend_type || coalesce(' as ' || usename, ''), ', ') from pg_stat_activity where datname = $1", conn)
                { Parameters = { new() { Value = database } } })
                Console.WriteLine($"  (cleanup: the Odoo admin's drop of {database} was refused: {e.MessageText}; in it: {await who.ExecuteScalarAsync()}; "
                    + "dropped by the superuser)");
            await using var drop = new NpgsqlCommand($"drop database if exists \"{database}\" with (force)", conn);
            await drop.ExecuteNonQueryAsync();
        }
    }

    internal static void DeleteFolder(string path)
    {
        try { if (Directory.Exists(path)) Directory.Delete(path, true); }
        catch (IOException e) { Console.Error.WriteLine($"could not remove {path}: {e.Message}"); }
    }
}
