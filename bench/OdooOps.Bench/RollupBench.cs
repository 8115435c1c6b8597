using System.Diagnostics;
using Dapper;
using Npgsql;
using OdooOps.Database;
using OdooOps.Metrics;

namespace OdooOps.Bench;

/// <summary>
/// Issue 4's rollup targets: folding one minute of new samples into the minute and hour rollups costs at most 1.2×
/// more with 50M rows of history than with 1M, and is at least 20× faster than a REFRESH MATERIALIZED VIEW of the
/// same minute rollup over the 50M rows. History is 1,000 series (100 projects × 10 metrics) sampled every few
/// seconds back from now, already rolled up, vacuumed as autovacuum would leave it; each measured fold takes one new
/// minute of samples (6 per series) received after the last fold. Everything runs on an embedded PostgreSQL here.
/// </summary>
public static class RollupBench
{
    const int Projects = 100, MetricsPerProject = 10, SamplesPerMinute = 6;

    public static async Task<int> RunAsync(string[] args)
    {
        long Arg(string name, long fallback) => Array.IndexOf(args, name) is var i and >= 0 ? long.Parse(args[i + 1]) : fallback;
        var small = Arg("--small", 1_000_000);
        var large = Arg("--history", 50_000_000);
        var repeats = (int)Arg("--repeats", 7);
        Console.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()} ({Environment.ProcessorCount} CPUs; run on a quiet machine)");

        var dir = Path.Combine(Path.GetTempPath(), $"odooops-bench-{Guid.NewGuid():N}"[..28]);
        await using var pg = await LocalPostgres.StartAsync(dir);
        try
        {
            var owner = pg.ConnectionString();
            await new Migrator(owner.ConnectionString).MigrateAsync();
            await using var database = OpsDatabase.Create(await LoginRoles.EnsureAsync(owner));
            await using var conn = new NpgsqlConnection(owner.ConnectionString);
            await conn.OpenAsync();
            await SeedAsync(conn);
            var series = Projects * MetricsPerProject;
            // History ends here; measured minutes follow it, one per fold.
            var end = DateTime.UtcNow.AddMinutes(-2 * repeats - 5);
            end = new DateTime(end.Ticks - end.Ticks % TimeSpan.TicksPerMinute, DateTimeKind.Utc);
            var minute = 0;

            async Task<List<double>> MeasureAsync()
            {
                var times = new List<double>();
                for (var r = 0; r < repeats; r++, minute++)
                {
                    await conn.ExecuteAsync("""
                        insert into ops.metric_samples (project_id, branch_id, metric, ts, value, received_at)
                        select s.project_id, s.branch_id, s.metric, @at + make_interval(secs => 10 * g), random() * 100, (select ops.metric_receipt_stamp())
                          from bench_series s, generate_series(0, @n - 1) g
                        """, new { at = end.AddMinutes(minute), n = SamplesPerMinute });
                    var clock = Stopwatch.StartNew();
                    var fold = await MetricRollupJob.FoldAsync(database.Service);
                    times.Add(clock.Elapsed.TotalMilliseconds);
                    if (fold.Samples != series * SamplesPerMinute) throw new InvalidOperationException($"fold took {fold.Samples} samples");
                }
                return times;
            }

            var loaded = await LoadHistoryAsync(conn, end, 0, small / series);
            var atSmall = await MeasureAsync();
            Report($"{loaded:N0} rows of history", atSmall);
            loaded += await LoadHistoryAsync(conn, end, small / series, large / series);
            var atLarge = await MeasureAsync();
            Report($"{loaded:N0} rows of history", atLarge);

            await conn.ExecuteAsync("""
                create materialized view bench_minute_rollup as
                select project_id, branch_id, metric, date_trunc('minute', ts, 'UTC') as bucket, count(*) as count, sum(value) as sum,
                       min(value) as min, max(value) as max
                  from ops.metric_samples group by 1, 2, 3, 4
                with no data
                """);
            var refresh = Stopwatch.StartNew();
            await conn.ExecuteAsync("refresh materialized view bench_minute_rollup", commandTimeout: 3600);
            var refreshMs = refresh.Elapsed.TotalMilliseconds;

            double medianSmall = Median(atSmall), medianLarge = Median(atLarge);
            Console.WriteLine($"REFRESH MATERIALIZED VIEW over {loaded:N0} rows: {refreshMs:N0} ms");
            Console.WriteLine($"fold at {loaded:N0} / fold at {small:N0}: {medianLarge / medianSmall:N2} (target ≤ 1.2: {(medianLarge / medianSmall <= 1.2 ? "met" : "NOT met")})");
            Console.WriteLine($"refresh / fold at {loaded:N0}: {refreshMs / medianLarge:N0}× (target ≥ 20×: {(refreshMs / medianLarge >= 20 ? "met" : "NOT met")})");
            return 0;
        }
        finally
        {
            await pg.DisposeAsync();
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    static double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);

    static void Report(string label, List<double> ms) =>
        Console.WriteLine($"fold of one new minute ({Projects * MetricsPerProject * SamplesPerMinute:N0} samples) with {label}: median {Median(ms):N1} ms " +
                          $"(runs: {string.Join(", ", ms.Select(m => m.ToString("N1")))})");

    static async Task SeedAsync(NpgsqlConnection conn)
    {
        await conn.ExecuteAsync("""
            insert into registry.orgs (name, slug) values ('bench', 'bench');
            insert into ops.projects (org_id, name, slug, repo_url)
            select o.id, 'Bench ' || g, 'bench-' || g, 'https://git.example.com/bench.git' from registry.orgs o, generate_series(1, @Projects) g where o.slug = 'bench';
            insert into ops.branches (project_id, name, stage, is_production) select id, 'main', 'production', true from ops.projects where slug like 'bench-%';
            create table bench_series as
            select b.project_id, b.id as branch_id, 'metric_' || m as metric
              from ops.branches b join ops.projects p on p.id = b.project_id and p.slug like 'bench-%', generate_series(1, @MetricsPerProject) m;
            select ops.ensure_metric_partitions(current_date - 14, 16);
            """, new { Projects, MetricsPerProject });
    }

    /// <summary>
    /// Samples number [from, to) of every series, counted backwards from <paramref name="end"/> at a spacing that puts
    /// the 50M-row history within the 14-day raw retention; received when sampled. Their rollups are computed directly
    /// (what the job would have folded minute by minute), then the tables are vacuumed and analysed.
    /// </summary>
    static async Task<long> LoadHistoryAsync(NpgsqlConnection conn, DateTime end, long from, long to)
    {
        var clock = Stopwatch.StartNew();
        var spacing = TimeSpan.FromSeconds(20);
        var rows = await conn.ExecuteAsync("""
            insert into ops.metric_samples (project_id, branch_id, metric, ts, value, received_at)
            select s.project_id, s.branch_id, s.metric, t, (g % 1000) / 10.0, t
              from generate_series(@to, @from + 1, -1) g, lateral (select @end - make_interval(secs => g * @seconds) as t) x, bench_series s
            """, new { end, from, to, seconds = spacing.TotalSeconds }, commandTimeout: 7200);
        var first = end - spacing * to;
        var last = end - spacing * (from + 1);
        foreach (var (table, unit) in new[] { ("metric_rollups_minute", "minute"), ("metric_rollups_hour", "hour") })
            await conn.ExecuteAsync($"""
                insert into ops.{table} as r (project_id, branch_id, metric, bucket, count, sum, min, max, last, last_ts)
                select project_id, branch_id, metric, date_trunc('{unit}', ts, 'UTC'), count(*), sum(value), min(value), max(value),
                       (array_agg(value order by ts desc))[1], max(ts)
                  from ops.metric_samples where ts >= date_trunc('{unit}', @first::timestamptz, 'UTC') and ts < @end group by 1, 2, 3, 4
                on conflict (project_id, metric, bucket, branch_id) do update
                   set count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max, last = excluded.last, last_ts = excluded.last_ts
                """, new { first, end }, commandTimeout: 7200);
        await conn.ExecuteAsync("""
            insert into ops_private.metric_rollup_state (folded_until) values (clock_timestamp()) on conflict (singleton) do nothing
            """);
        await conn.ExecuteAsync("vacuum analyze ops.metric_samples, ops.metric_rollups_minute, ops.metric_rollups_hour", commandTimeout: 7200);
        Console.WriteLine($"loaded {rows:N0} history rows ({first:yyyy-MM-dd HH:mm}..{last:yyyy-MM-dd HH:mm}), rolled up and vacuumed in {clock.Elapsed.TotalSeconds:N0} s");
        return rows;
    }
}
