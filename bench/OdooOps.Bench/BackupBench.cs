using System.Diagnostics;
using OdooOps.Database;
using OdooOps.Runners.Agent.Backups;
using OdooOps.Runners.Agent.Instances;

namespace OdooOps.Bench;

/// <summary>
/// Issue 13's backup targets, same run, same database and filestore: a backup (BackupWriter: pg_dump's custom format and
/// the filestore in one zip, with its checksums and manifest) against plain `pg_dump -Fc` + `tar` of the same (target:
/// at least 0.9× the throughput), then restore-to-serving: the backup restored into a new database and folder
/// (BackupRestorer) and the stand-in odoo-bin started on it until /web/health answers. The database is the stand-in's,
/// initialised with base, plus a generated table of about --db-mb MB (random hex); the filestore --files files of
/// 100 KiB random bytes. Rounds alternate the two ways, so machine noise hits both alike.
/// </summary>
public static class BackupBench
{
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
            var production = await BenchProduction.CreateAsync(pg, dir, dbMb, files);
            var (world, filestore) = (production.World, production.Filestore);
            var (server, project) = (world.Server, world.ProjectId);
            Console.WriteLine($"{production}; {rounds} rounds");

            var postgres = PostgresBinaries.LocateClients();
            var env = server.OdooEnvironment(project, true).ToDictionary();
            env["PGHOST"] = pg.SocketDirectory;
            env["PGDATABASE"] = "bench";
            var plain = new List<double>();
            var ours = new List<double>();
            var zip = Path.Combine(dir, "backup.zip");
            for (var round = 0; round < rounds; round++)
            {
                var clock = Stopwatch.StartNew();
                await BenchProduction.RunAsync(postgres.Tool("pg_dump"), ["-Fc", "-f", Path.Combine(dir, "plain.dump"), "bench"], env);
                await BenchProduction.RunAsync("tar", ["-cf", Path.Combine(dir, "plain.tar"), "-C", filestore, "."], null);
                plain.Add(clock.Elapsed.TotalSeconds);
                var plainBytes = new FileInfo(Path.Combine(dir, "plain.dump")).Length + new FileInfo(Path.Combine(dir, "plain.tar")).Length;

                clock.Restart();
                await using (var output = new FileStream(zip, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
                    await new BackupWriter(server, postgres).WriteAsync(production.Data, "19.0", output, null, default);
                ours.Add(clock.Elapsed.TotalSeconds);
                Console.WriteLine($"round {round + 1}: pg_dump -Fc + tar {plain[^1]:F2} s ({plainBytes >> 20} MiB), backup {ours[^1]:F2} s ({new FileInfo(zip).Length >> 20} MiB)");
            }
            var ratio = plain.Order().ElementAt(rounds / 2) / ours.Order().ElementAt(rounds / 2);
            Console.WriteLine($"median: pg_dump -Fc + tar {plain.Order().ElementAt(rounds / 2):F2} s, backup {ours.Order().ElementAt(rounds / 2):F2} s");
            Console.WriteLine($"backup throughput ratio = {ratio:F2}   (target ≥ 0.90: {(ratio >= 0.9 ? "met" : "NOT met")})");

            // Restore-to-serving: the backup into a new database and folder, then the stand-in on it until it answers.
            var clockRestore = Stopwatch.StartNew();
            var restoredDir = Path.Combine(dir, "restored-data");
            Directory.CreateDirectory(Path.Combine(restoredDir, "filestore"));
            await new BackupRestorer(server, postgres, null).RestoreAsync(zip, new OdooData(project, true, "bench_restored",
                OdooData.FilestoreOf(restoredDir, "bench_restored")), null, null, default);
            var restored = clockRestore.Elapsed.TotalSeconds;
            await using (var serving = await StandInUpstream.ServeAsync(world with { DataDir = restoredDir }, "bench_restored", 2))
                Console.WriteLine($"restore-to-serving: restored in {restored:F2} s, answering /web/health after {clockRestore.Elapsed.TotalSeconds:F2} s");
            return 0;
        }
        finally
        {
            await pg.StopAsync();
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }
}
