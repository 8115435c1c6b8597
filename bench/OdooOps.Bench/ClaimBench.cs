using System.Diagnostics;
using Dapper;
using Npgsql;
using OdooOps.Database;
using OdooOps.Runners.Protocol;
using OdooOps.Runners.Dispatch;

namespace OdooOps.Bench;

/// <summary>
/// The runner issue's claim target (2 cores): the queue layer alone, no HTTP — workers (each its own ops.runners row
/// and connection, as ops_service like the runner API) loop claim → finish on no-op builds: unbatched (claim 1, one
/// finish per job, the runner API's own SQL through DispatchStore) with 8 workers ≥ 1,600 jobs/s; also batched (claim
/// --batch, the batch's finishes in one statement), and 1 and 4 workers. Before each run the queue is topped up to
/// --jobs builds with one INSERT … generate_series (the enqueue trigger queues each; the per-project cap of 20 is
/// BuildTrigger's, not the database's) and vacuumed, so every run starts from the same queue. The default, 100,000, is
/// more than a 10 s batched run takes on 2 cores (it passed 20,000 in ~2 s); a run lasts --seconds or until the queue
/// is empty, and says so when it emptied. Ends by checking that every claimed build
/// was finished exactly once. The embedded PostgreSQL is durable, as `serve` runs it.
/// </summary>
public static class ClaimBench
{
    const int LeaseSeconds = 600; // nothing expires during a run (no rescuer runs here anyway)
    static readonly int[] WorkerCounts = [1, 4, 8];

    sealed record Worker(List<Guid> Claimed, int Finished, bool QueueEmpty);

    public static async Task<int> RunAsync(BenchOptions o)
    {
        if (o.Batch is < 2 or > 64) throw new ArgumentException("--batch must be between 2 and 64 (a runner's capacity).");
        Console.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()} ({Environment.ProcessorCount} CPUs; run on a quiet machine, load < 1.5)");
        var dir = Path.Combine(Path.GetTempPath(), $"odooops-bench-{Guid.NewGuid():N}"[..28]);
        await using var pg = await LocalPostgres.StartAsync(dir);
        try
        {
            var owner = pg.ConnectionString();
            await new Migrator(owner.ConnectionString).MigrateAsync();
            await using var database = OpsDatabase.Create(await LoginRoles.EnsureAsync(owner));
            await using var conn = new NpgsqlConnection(owner.ConnectionString);
            await conn.OpenAsync();
            var (projectId, branchId, runners) = await SeedAsync(conn, WorkerCounts.Max());
            Console.WriteLine($"Queue topped up to {o.Jobs} builds before each run; {o.Seconds} s per run (or until the queue is empty); batch = {o.Batch}.");

            List<Guid> claimed = [];
            long finished = 0;
            async Task<(double Rate, string Line)> MeasureAsync(int workers, bool batched, double seconds)
            {
                await TopUpAsync(conn, projectId, branchId, o.Jobs);
                var until = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
                var start = Stopwatch.GetTimestamp();
                var done = await Task.WhenAll(runners.Take(workers).Select(r => Task.Run(() => WorkAsync(database.Service, owner.ConnectionString, r, batched ? o.Batch : 1, batched, until))));
                var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
                foreach (var w in done) claimed.AddRange(w.Claimed);
                var jobs = done.Sum(w => w.Finished);
                finished += jobs;
                var rate = jobs / elapsed;
                var mode = batched ? $"batched (claim {o.Batch}, 1 finish statement)" : "unbatched (claim 1, 1 finish per job)";
                var empty = done.Any(w => w.QueueEmpty) ? $"  queue emptied after {elapsed:F1} s: raise --jobs" : "";
                return (rate, $"{mode,-45} {workers} worker{(workers == 1 ? " " : "s")}  {rate,8:N0} jobs/s  ({jobs} jobs in {elapsed:F1} s){empty}");
            }

            await MeasureAsync(1, false, Math.Min(1, o.Seconds)); // warm-up: JIT, connections, prepared statements
            Console.WriteLine();
            double unbatched8 = 0;
            foreach (var batched in new[] { false, true })
                foreach (var workers in WorkerCounts)
                {
                    var (rate, line) = await MeasureAsync(workers, batched, o.Seconds);
                    Console.WriteLine(line);
                    if (!batched && workers == 8) unbatched8 = rate;
                }

            var ok = await CheckAsync(conn, claimed, finished);
            Console.WriteLine();
            Console.WriteLine($"unbatched, 8 workers = {unbatched8:N0} jobs/s  (target ≥ 1,600: {(unbatched8 >= 1600 ? "met" : "NOT met")})");
            Console.WriteLine($"load average at the end: {File.ReadAllText("/proc/loadavg").Trim()}");
            return ok ? 0 : 1;
        }
        finally
        {
            await pg.StopAsync();
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    /// <summary>One runner's loop on its own connection until the deadline or an empty queue.</summary>
    static async Task<Worker> WorkAsync(NpgsqlDataSource service, string ownerConnection, Guid runnerId, int max, bool batched, long until)
    {
        List<Guid> claimed = [];
        var finished = 0;
        await using var conn = await service.OpenConnectionAsync();
        while (Stopwatch.GetTimestamp() < until)
        {
            var jobs = (await DispatchStore.ClaimAsync(conn, runnerId, max, LeaseSeconds)).Select(c => c.Job).ToList();
            if (jobs.Count == 0)
            {
                // Nothing free: the queue is empty, or its last rows are locked by the other workers' claims.
                if (!await AnyQueuedAsync(ownerConnection)) return new Worker(claimed, finished, true);
                continue;
            }
            claimed.AddRange(jobs.Select(j => j.BuildId));
            if (batched)
                await conn.ExecuteAsync("""
                    select ops.finish_build_job(@runnerId, j.build_id, j.lease_id, 'success', null)
                      from unnest(@builds, @leases) as j(build_id, lease_id)
                    """, new { runnerId, builds = jobs.Select(j => j.BuildId).ToArray(), leases = jobs.Select(j => j.LeaseId).ToArray() });
            else
                foreach (var job in jobs)
                    await DispatchStore.FinishAsync(conn, runnerId, job.BuildId, new RunnerProtocol.DoneRequest(job.LeaseId, "success", null));
            finished += jobs.Count;
        }
        return new Worker(claimed, finished, false);
    }

    /// <summary>As the owner: ops_service sees the queue only through the functions.</summary>
    static async Task<bool> AnyQueuedAsync(string ownerConnection)
    {
        await using var conn = new NpgsqlConnection(ownerConnection);
        await conn.OpenAsync();
        return await conn.ExecuteScalarAsync<bool>("select exists (select 1 from ops.run_queue where state = 'queued')");
    }

    static async Task TopUpAsync(NpgsqlConnection conn, Guid projectId, Guid branchId, int jobs)
    {
        var queued = await conn.ExecuteScalarAsync<int>("select count(*) from ops.run_queue where state = 'queued'");
        if (queued < jobs)
            await conn.ExecuteAsync("""
                insert into ops.builds (project_id, branch_id, trigger)
                select @projectId, @branchId, 'manual' from generate_series(1, @n)
                """, new { projectId, branchId, n = jobs - queued }, commandTimeout: 600);
        // The previous run's dead queue rows would slow this one's claims until autovacuum got to them.
        await conn.ExecuteAsync("vacuum (analyze) ops.run_queue, ops.builds", commandTimeout: 600);
    }

    /// <summary>Every claimed build finished exactly once: in memory (no id twice) and in the database.</summary>
    static async Task<bool> CheckAsync(NpgsqlConnection conn, List<Guid> claimed, long finished)
    {
        var distinct = claimed.Distinct().ToArray();
        var db = await conn.QuerySingleAsync<(long Success, long ClaimedSuccess, long Running, long Retried, long Leased)>("""
            select count(*) filter (where status = 'success'),
                   count(*) filter (where status = 'success' and id = any(@ids)),
                   count(*) filter (where status = 'running'),
                   count(*) filter (where attempt > 1),
                   (select count(*) from ops.run_queue where state = 'leased')
              from ops.builds
            """, new { ids = distinct }, commandTimeout: 600);
        var ok = distinct.Length == claimed.Count && finished == claimed.Count && db.Success == claimed.Count && db.ClaimedSuccess == claimed.Count
                 && db.Running == 0 && db.Retried == 0 && db.Leased == 0;
        Console.WriteLine();
        Console.WriteLine($"check: {claimed.Count} claims, {distinct.Length} distinct builds, {finished} finished; database: {db.Success} success " +
                          $"({db.ClaimedSuccess} of them claimed here), {db.Running} running, {db.Leased} leased, {db.Retried} with attempt > 1 → " +
                          (ok ? "OK, every claimed build finished exactly once" : "WRONG"));
        return ok;
    }

    /// <summary>An org, its project with a production branch, and one org runner per worker (capacity 64 ≥ any batch).</summary>
    static async Task<(Guid ProjectId, Guid BranchId, Guid[] Runners)> SeedAsync(NpgsqlConnection conn, int workers)
    {
        var orgId = await conn.ExecuteScalarAsync<Guid>("insert into registry.orgs (name, slug) values ('bench', 'bench') returning id");
        var projectId = await conn.ExecuteScalarAsync<Guid>(
            "insert into ops.projects (org_id, name, slug, repo_url) values (@orgId, 'Bench', 'bench', 'https://git.example.com/bench.git') returning id", new { orgId });
        var branchId = await conn.ExecuteScalarAsync<Guid>(
            "insert into ops.branches (project_id, name, stage, is_production) values (@projectId, 'main', 'production', true) returning id", new { projectId });
        var runners = await conn.QueryAsync<Guid>("""
            insert into ops.runners (org_id, name, capacity, version, last_seen_at)
            select @orgId, 'bench-worker-' || g, 64, 'bench', now() from generate_series(1, @workers) g
            returning id
            """, new { orgId, workers });
        return (projectId, branchId, [.. runners]);
    }
}
