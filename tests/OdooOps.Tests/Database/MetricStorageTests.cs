using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Npgsql;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Database;

/// <summary>
/// Metric samples: UTC day partitions (created, routed, dropped as whole tables) and ops.ingest_metric_batch, the
/// all-or-nothing batch insert the ingest endpoint calls through the ops_service login. Tests sharing the class
/// database use metric names and days of their own; the retention test, which drops every old day, has its own.
/// </summary>
public sealed class MetricStorageTests(TenantDatabase db, PostgresCluster cluster) : IClassFixture<TenantDatabase>
{
    [Fact]
    public async Task Ensure_creates_one_partition_per_utc_day_idempotently_and_routes_rows_by_utc()
    {
        await using var owner = await db.OpenOwnerAsync();
        Assert.Equal(3, await EnsureAsync(owner, "2001-02-01", 3));
        Assert.Equal(0, await EnsureAsync(owner, "2001-02-01", 3));
        Assert.Equal(1, await EnsureAsync(owner, "2001-02-02", 3)); // only 2001-02-04 is new
        Assert.Equal(["metric_samples_p20010201", "metric_samples_p20010202", "metric_samples_p20010203", "metric_samples_p20010204"],
            await owner.QueryAsync<string>("select relname from pg_class where relnamespace = 'ops_partitions'::regnamespace and relkind = 'r' and relname like 'metric_samples_p200102%' order by 1"));
        // new partitions have RLS on and no grants: they are read through the parent only
        Assert.Equal((true, true), await owner.QuerySingleAsync<(bool, bool)>(
            "select relrowsecurity, relacl is null from pg_class where oid = 'ops_partitions.metric_samples_p20010204'::regclass"));

        // Day bounds are UTC whatever the session's time zone.
        await owner.ExecuteAsync("set timezone = 'Pacific/Auckland'");
        var routed = await owner.QueryAsync<(string, string)>("""
            insert into ops.metric_samples (project_id, branch_id, metric, ts, value)
            select @ProjectId, @ProductionBranchId, 'route', t::timestamptz, 1
              from unnest(array['2001-02-01 00:00:00+00', '2001-02-01 23:59:59.999+00', '2001-02-02 00:00:00+00', '2001-02-02 09:00:00+13']) t
            returning to_char(ts at time zone 'UTC', 'MM-DD HH24:MI'), tableoid::regclass::text
            """, db.A);
        Assert.Equal([
            ("02-01 00:00", "ops_partitions.metric_samples_p20010201"), ("02-01 23:59", "ops_partitions.metric_samples_p20010201"),
            ("02-02 00:00", "ops_partitions.metric_samples_p20010202"), ("02-01 20:00", "ops_partitions.metric_samples_p20010201"),
        ], routed);

        var e = await Assert.ThrowsAsync<PostgresException>(() => EnsureAsync(owner, "2001-02-01", 367));
        Assert.Equal("22023", e.SqlState);
    }

    [Fact]
    public async Task Drop_before_removes_whole_day_partitions_and_counts_them()
    {
        var own = await TenantDatabase.CreateAsync(cluster);
        await using var owner = await own.OpenOwnerAsync();
        await EnsureAsync(owner, "2001-02-01", 3);
        await owner.ExecuteAsync("""
            insert into ops.metric_samples (project_id, branch_id, metric, ts, value)
            select @ProjectId, @ProductionBranchId, 'drop', d + make_interval(hours => h), h
              from unnest(array[timestamptz '2001-02-01 00:00+00', '2001-02-02 00:00+00', '2001-02-03 00:00+00']) d, generate_series(0, 23) h
            """, own.A);
        var partitionsBefore = await owner.ExecuteScalarAsync<int>("select count(*) from pg_inherits where inhparent = 'ops.metric_samples'::regclass");

        Assert.Equal(2, await owner.ExecuteScalarAsync<int>("select ops.drop_metric_partitions_before('2001-02-03')"));
        Assert.Equal(0, await owner.ExecuteScalarAsync<int>("select ops.drop_metric_partitions_before('2001-02-03')"));
        Assert.Equal(partitionsBefore - 2, await owner.ExecuteScalarAsync<int>("select count(*) from pg_inherits where inhparent = 'ops.metric_samples'::regclass"));
        Assert.Equal((24, "2001-02-03"), await owner.QuerySingleAsync<(int, string)>(
            "select count(*)::int, to_char(min(ts) at time zone 'UTC', 'YYYY-MM-DD') from ops.metric_samples where metric = 'drop'"));
        Assert.True(await owner.ExecuteScalarAsync<long>("select count(*) from ops.metric_samples where metric = 'cpu_pct'") > 0,
            "recent partitions must survive");
    }

    /// <summary>One call of the ingest endpoint's function: parallel arrays, as the host sends them.</summary>
    const string Ingest = "select inserted from ops.ingest_metric_batch(@ProjectId, @Metrics, @Ts, @Values, @Branches, null, null, null)";

    static object Batch(Guid projectId, string metric, (DateTime Ts, double Value, string? Branch)[] samples) => new
    {
        ProjectId = projectId,
        Metrics = samples.Select(_ => metric).ToArray(),
        Ts = samples.Select(s => s.Ts).ToArray(),
        Values = samples.Select(s => s.Value).ToArray(),
        Branches = samples.Any(s => s.Branch is not null) ? samples.Select(s => s.Branch).ToArray() : null,
    };

    [Fact]
    public async Task Ingest_counts_inserted_samples_and_skips_duplicates()
    {
        await using var service = await db.OpenServiceAsync();
        var t = DateTime.UtcNow.AddMinutes(-30);
        object Samples(params (int Minutes, double Value)[] samples) =>
            Batch(db.A.ProjectId, "ingest.dup", [.. samples.Select(s => (t.AddMinutes(s.Minutes), s.Value, (string?)null))]);

        Assert.Equal(2, await service.ExecuteScalarAsync<int>(Ingest, Samples((0, 1), (1, 2))));
        Assert.Equal(0, await service.ExecuteScalarAsync<int>(Ingest, Samples((0, 1), (1, 2))));
        Assert.Equal(1, await service.ExecuteScalarAsync<int>(Ingest, Samples((0, 99), (2, 3)))); // same key, other value: still a duplicate
        Assert.Equal(1, await service.ExecuteScalarAsync<int>(Ingest, Samples((3, 4), (3, 5))));  // duplicate inside one batch

        await using var owner = await db.OpenOwnerAsync();
        Assert.Equal([1d, 2, 3, 4], await owner.QueryAsync<double>("select value from ops.metric_samples where metric = 'ingest.dup' order by ts"));
    }

    [Fact]
    public async Task Ingest_defaults_to_the_production_branch_and_resolves_names_per_project()
    {
        await using var service = await db.OpenServiceAsync();
        var now = DateTime.UtcNow.AddMinutes(-1);
        foreach (var tenant in new[] { db.A, db.B })
            Assert.Equal(2, await service.ExecuteScalarAsync<int>(Ingest,
                Batch(tenant.ProjectId, "ingest.branch", [(now, 1, null), (now, 2, "staging")])));

        await using var owner = await db.OpenOwnerAsync();
        var stored = (await owner.QueryAsync<(Guid, double)>("select branch_id, value from ops.metric_samples where metric = 'ingest.branch'")).ToHashSet();
        Assert.Equal([(db.A.ProductionBranchId, 1), (db.A.StagingBranchId, 2), (db.B.ProductionBranchId, 1), (db.B.StagingBranchId, 2)], stored);
    }

    /// <summary>The host's parser refuses bad samples first (IngestValidationTests); the database still refuses what reaches it.</summary>
    public static TheoryData<string, double, string?, string, string> BadSamples => new()
    {
        { "CPU%", 1, null, "23514", "metric_samples_metric_check" },
        { "ingest.bad", double.NaN, null, "23514", "metric_samples_value_check" },
        { "ingest.bad", double.PositiveInfinity, null, "23514", "metric_samples_value_check" },
        { "ingest.bad", 1, "no-such-branch", "22023", "samples[1].branch" },
    };

    [Theory]
    [MemberData(nameof(BadSamples))]
    public async Task A_bad_sample_rejects_the_whole_batch(string metric, double value, string? branch, string sqlState, string names)
    {
        await using var service = await db.OpenServiceAsync();
        var now = DateTime.UtcNow.AddMinutes(-1);
        var args = new
        {
            db.A.ProjectId,
            Metrics = new[] { "ingest.bad", metric },
            Ts = new[] { now.AddSeconds(-1), now },
            Values = new[] { 1, value },
            Branches = branch is null ? null : new[] { null, branch },
        };
        var e = await Assert.ThrowsAsync<PostgresException>(() => service.ExecuteScalarAsync<int>(Ingest, args));
        Assert.Equal(sqlState, e.SqlState);
        Assert.Equal(names, e.ConstraintName ?? e.ColumnName); // the constraint, or the sample's field for the API's answer
        await using var owner = await db.OpenOwnerAsync();
        Assert.Equal(0L, await owner.ExecuteScalarAsync<long>("select count(*) from ops.metric_samples where metric in ('ingest.bad', 'CPU%')"));
    }

    [Fact]
    public async Task One_metric_of_one_project_over_a_time_range_is_an_index_scan_of_one_partition()
    {
        await using var owner = await db.OpenOwnerAsync();
        Assert.Equal(["project_id", "metric", "ts", "branch_id"], await owner.QueryAsync<string>("""
            select a.attname from pg_index i cross join unnest(i.indkey) with ordinality k(attnum, n)
              join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
             where i.indrelid = 'ops.metric_samples'::regclass and i.indisprimary order by k.n
            """));

        // A realistic day: 3 metrics x 2 projects x 1440 minutes in one partition, with statistics.
        await EnsureAsync(owner, "2001-03-01", 1);
        await owner.ExecuteAsync("""
            insert into ops.metric_samples (project_id, branch_id, metric, ts, value)
            select p.project_id, p.branch_id, m, timestamptz '2001-03-01 00:00+00' + make_interval(mins => i), i
              from (values (@AProject, @ABranch), (@BProject, @BBranch)) p(project_id, branch_id),
                   unnest(array['plan.cpu', 'plan.mem', 'plan.req']) m, generate_series(0, 1439) i;
            analyze ops.metric_samples;
            """, new { AProject = db.A.ProjectId, ABranch = db.A.ProductionBranchId, BProject = db.B.ProjectId, BBranch = db.B.ProductionBranchId });
        var plan = JsonNode.Parse(await owner.ExecuteScalarAsync<string>($"""
            explain (format json) select ts, value from ops.metric_samples
             where project_id = '{db.A.ProjectId}' and metric = 'plan.cpu'
               and ts >= '2001-03-01 10:00+00' and ts < '2001-03-01 11:00+00'
            """) ?? "")!;

        var scans = Nodes(plan[0]!["Plan"]!).Where(n => ((string)n["Node Type"]!).Contains("Scan")).ToList();
        Assert.DoesNotContain(scans, n => (string)n["Node Type"]! == "Seq Scan");
        var partitions = scans.Select(n => (string?)n["Relation Name"]).OfType<string>().Distinct();
        Assert.Equal(["metric_samples_p20010301"], partitions); // pruned to the one day
        Assert.Contains(scans, n => ((string)n["Node Type"]!).Contains("Index") && ((string?)n["Index Name"] ?? "").Contains("pkey"));
    }

    [Fact]
    public async Task The_app_cannot_read_day_partitions_directly()
    {
        await using var session = await db.AsUserAsync(db.A.OwnerId);
        var partition = await session.ScalarAsync<string>(
            "select min(c.oid::regclass::text) from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'ops.metric_samples'::regclass");
        var attempt = await session.TryQueryAsync($"select * from {partition}");
        Assert.Equal("42501", attempt.SqlState);
        Assert.True(await session.ScalarAsync<long>("select count(*) from ops.metric_samples") > 0); // the parent is the way in
    }

    static Task<int> EnsureAsync(NpgsqlConnection owner, string from, int days) =>
        owner.ExecuteScalarAsync<int>("select ops.ensure_metric_partitions(@from::date, @days)", new { from, days });

    static IEnumerable<JsonNode> Nodes(JsonNode node) =>
        new[] { node }.Concat(node["Plans"] is JsonArray children ? children.SelectMany(c => Nodes(c!)) : []);
}
