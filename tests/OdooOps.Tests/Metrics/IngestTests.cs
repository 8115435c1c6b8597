using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Metrics;

/// <summary>
/// What the ingest endpoint stores: rows as sent (branch, labels, per-sample ts), duplicates skipped and not counted,
/// per-project tokens confined to their project and dead once revoked, Idempotency-Key replays, and late samples
/// that land in a day without a partition.
/// </summary>
public sealed class IngestTests(IngestWorld world, PostgresCluster cluster) : IClassFixture<IngestWorld>
{
    IngestServer Server => world.Server;

    static string Iso(DateTime utc) => utc.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'");

    /// <summary>Now minus some minutes, at PostgreSQL's microsecond precision (what is stored and compared).</summary>
    static DateTime MinutesAgo(int minutes)
    {
        var t = DateTime.UtcNow.AddMinutes(-minutes);
        return new DateTime(t.Ticks - t.Ticks % 10, DateTimeKind.Utc);
    }

    string Batch(Guid project, DateTime ts, string samples) =>
        $$"""{"project_id": "{{project}}", "ts": "{{Iso(ts)}}", "samples": [{{samples}}]}""";

    [Fact]
    public async Task Stores_each_sample_with_its_branch_labels_and_time()
    {
        var ts = MinutesAgo(3);
        var own = MinutesAgo(2);
        var answer = await Server.PostAsync(Batch(Server.ProjectId, ts, $$$"""
            {"metric": "store.cpu", "value": 45.2},
            {"metric": "store.mem", "value": -1024.5e3, "branch": "staging", "labels": {"host": "web-1", "zone": "é"}},
            {"metric": "store.cpu", "value": 0, "ts": "{{{Iso(own)}}}", "branch": null, "labels": null}
            """));
        Assert.Equal((200, "application/json", """{"inserted": 3}"""), (answer.Status, answer.MediaType, answer.Body));

        await using var conn = await Server.OpenOwnerAsync();
        var rows = (await conn.QueryAsync<(string Metric, string Branch, DateTime Ts, double Value, string? Labels)>("""
            select s.metric, b.name, s.ts, s.value, s.labels::text
              from ops.metric_samples s join ops.branches b on b.id = s.branch_id
             where s.project_id = @ProjectId and s.metric like 'store.%' order by s.ts, s.metric
            """, new { Server.ProjectId })).ToList();
        Assert.Equal([
            ("store.cpu", "main", ts, 45.2, null),
            ("store.mem", "staging", ts, -1024500, """{"host": "web-1", "zone": "é"}"""),
            ("store.cpu", "main", own, 0, null),
        ], rows.Select(r => (r.Metric, r.Branch, DateTime.SpecifyKind(r.Ts.ToUniversalTime(), DateTimeKind.Utc), r.Value, r.Labels)));
    }

    [Fact]
    public async Task Duplicates_are_skipped_and_not_counted()
    {
        var ts = DateTime.UtcNow.AddMinutes(-5);
        var body = Batch(Server.ProjectId, ts, """{"metric": "dup.a", "value": 1}, {"metric": "dup.b", "value": 2}""");
        Assert.Equal("""{"inserted": 2}""", (await Server.PostAsync(body)).Body);
        var after = await Server.SampleCountAsync();
        Assert.Equal("""{"inserted": 0}""", (await Server.PostAsync(body)).Body);
        // Same key (project, branch, metric, ts) inside one batch, and a new value for a stored one: first one wins.
        var mixed = Batch(Server.ProjectId, ts, """{"metric": "dup.c", "value": 3}, {"metric": "dup.c", "value": 4}, {"metric": "dup.a", "value": 9}""");
        Assert.Equal("""{"inserted": 1}""", (await Server.PostAsync(mixed)).Body);
        Assert.Equal(after + 1, await Server.SampleCountAsync());
        // The same metric and time on another branch is another sample.
        Assert.Equal("""{"inserted": 1}""", (await Server.PostAsync(Batch(Server.ProjectId, ts, """{"metric": "dup.a", "value": 1, "branch": "feature-x"}"""))).Body);
    }

    [Fact]
    public async Task A_project_token_writes_its_project_only_and_stops_when_revoked()
    {
        var other = await Server.NewProjectAsync("ingest-other");
        var (admin, _) = await AdminClientAsync();
        var created = await admin.PostAsJsonAsync($"/api/ops/projects/{Server.ProjectId}/ingest-tokens", new { name = "agent" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var json = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        var token = json.RootElement.GetProperty("token").GetString()!;
        var tokenId = json.RootElement.GetProperty("id").GetGuid();

        var ts = DateTime.UtcNow.AddMinutes(-1);
        Assert.Equal("""{"inserted": 1}""", (await Server.PostAsync(Batch(Server.ProjectId, ts, """{"metric": "tok.own", "value": 1}"""), token)).Body);

        var before = await Server.SampleCountAsync();
        foreach (var project in new[] { other, Guid.NewGuid() }) // another project, and one that does not exist: same answer
        {
            var refused = await Server.PostAsync(Batch(project, ts, """{"metric": "tok.other", "value": 1, "branch": "no-such"}"""), token);
            Assert.Equal((403, "application/problem+json"), (refused.Status, refused.MediaType));
            Assert.Contains("project_id", refused.Body);
            Assert.DoesNotContain("branch", refused.Body);
        }
        Assert.Equal(before, await Server.SampleCountAsync());
        // The shared token may write any project.
        Assert.Equal("""{"inserted": 1}""", (await Server.PostAsync(Batch(other, ts, """{"metric": "tok.shared", "value": 1}"""))).Body);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/ops/projects/{Server.ProjectId}/ingest-tokens/{tokenId}")).StatusCode);
        var revoked = await Server.PostAsync(Batch(Server.ProjectId, ts.AddSeconds(1), """{"metric": "tok.own", "value": 2}"""), token);
        Assert.Equal(401, revoked.Status);
        Assert.Equal(before + 1, await Server.SampleCountAsync());
    }

    [Fact]
    public async Task An_idempotency_key_replays_the_first_answer_and_refuses_another_body()
    {
        var ts = DateTime.UtcNow.AddMinutes(-4);
        var body = Batch(Server.ProjectId, ts, """{"metric": "idem.a", "value": 1}, {"metric": "idem.b", "value": 2}""");
        var first = await Server.PostAsync(body, idempotencyKey: "batch-0001");
        Assert.Equal(("""{"inserted": 2}""", false), (first.Body, first.Replayed));
        var count = await Server.SampleCountAsync();

        var replay = await Server.PostAsync(body, idempotencyKey: "batch-0001");
        Assert.Equal((200, """{"inserted": 2}""", true), (replay.Status, replay.Body, replay.Replayed));
        // Without the key the same body is a plain duplicate: nothing new.
        Assert.Equal("""{"inserted": 0}""", (await Server.PostAsync(body)).Body);

        var other = Batch(Server.ProjectId, ts, """{"metric": "idem.c", "value": 3}""");
        var mismatch = await Server.PostAsync(other, idempotencyKey: "batch-0001");
        Assert.Equal((422, "application/problem+json"), (mismatch.Status, mismatch.MediaType));
        Assert.Contains("\"Idempotency-Key\"", mismatch.Body);
        Assert.Equal(count, await Server.SampleCountAsync());

        // Keys are per project: the same key on another project is new there.
        var project = await Server.NewProjectAsync("idem-other");
        Assert.Equal("""{"inserted": 1}""", (await Server.PostAsync(Batch(project, ts, """{"metric": "idem.c", "value": 3}"""), idempotencyKey: "batch-0001")).Body);
        // A refused request does not use up its key.
        Assert.Equal(400, (await Server.PostAsync(Batch(Server.ProjectId, ts, """{"metric": "idem.d", "value": 1, "branch": "nope"}"""), idempotencyKey: "batch-0002")).Status);
        Assert.Equal("""{"inserted": 1}""", (await Server.PostAsync(Batch(Server.ProjectId, ts, """{"metric": "idem.d", "value": 1}"""), idempotencyKey: "batch-0002")).Body);

        Assert.Equal(400, (await Server.PostAsync(body, idempotencyKey: new string('k', 256))).Status);
        // After 24 hours the key is forgotten and the body is judged afresh (a duplicate now).
        await using (var conn = await Server.OpenOwnerAsync())
            await conn.ExecuteAsync("update ops_private.ingest_idempotency set created_at = now() - interval '25 hours' where key = 'batch-0001'");
        var expired = await Server.PostAsync(other, idempotencyKey: "batch-0001");
        Assert.Equal(("""{"inserted": 1}""", false), (expired.Body, expired.Replayed));
    }

    [Fact]
    public async Task A_late_sample_creates_the_partition_of_its_day()
    {
        var day = DateTime.UtcNow.Date.AddDays(-10).AddHours(13);
        var partition = $"ops_partitions.metric_samples_p{day:yyyyMMdd}";
        await using var conn = await Server.OpenOwnerAsync();
        Assert.Null(await conn.ExecuteScalarAsync<string?>("select to_regclass(@partition)::text", new { partition }));

        var answer = await Server.PostAsync(Batch(Server.ProjectId, DateTime.UtcNow.AddMinutes(-1),
            $$"""{"metric": "late.cpu", "value": 1, "ts": "{{Iso(day)}}"}, {"metric": "late.cpu", "value": 2}"""));
        Assert.Equal("""{"inserted": 2}""", answer.Body);
        Assert.Equal(partition, await conn.ExecuteScalarAsync<string>(
            "select tableoid::regclass::text from ops.metric_samples where metric = 'late.cpu' and value = 1"));
    }

    [Fact]
    public async Task Concurrent_first_samples_of_a_day_all_get_stored()
    {
        // Requests racing to create the same missing partition: each must store its sample, none may fail.
        for (var daysAgo = 11; daysAgo <= 13; daysAgo++)
        {
            var day = DateTime.UtcNow.Date.AddDays(-daysAgo).AddHours(6);
            var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Server.PostAsync(Batch(Server.ProjectId, day,
                $$"""{"metric": "race.m{{i}}", "value": {{i}}}"""))));
            Assert.All(answers, a => Assert.Equal("""{"inserted": 1}""", a.Body));
        }
    }

    [Fact]
    public async Task A_project_without_a_production_branch_needs_named_branches()
    {
        var bare = await Server.NewProjectAsync("ingest-bare", withBranches: false);
        await using (var conn = await Server.OpenOwnerAsync())
            await conn.ExecuteAsync("insert into ops.branches (project_id, name, stage) values (@bare, 'dev', 'development')", new { bare });
        var ts = DateTime.UtcNow.AddMinutes(-1);
        var refused = await Server.PostAsync(Batch(bare, ts, """{"metric": "bare.a", "value": 1, "branch": "dev"}, {"metric": "bare.a", "value": 1}"""));
        Assert.Equal(400, refused.Status);
        Assert.Contains("samples[1].branch", refused.Body);
        Assert.Equal("""{"inserted": 1}""", (await Server.PostAsync(Batch(bare, ts, """{"metric": "bare.a", "value": 1, "branch": "dev"}"""))).Body);
    }

    [Fact]
    public async Task Retention_follows_OPS_RAW_RETENTION_DAYS()
    {
        await using var server = await IngestServer.StartAsync(cluster, new Dictionary<string, string?> { ["OPS_RAW_RETENTION_DAYS"] = "2" });
        var threeDaysAgo = Batch(server.ProjectId, DateTime.UtcNow.AddDays(-3), """{"metric": "ret.a", "value": 1}""");
        var refused = await server.PostAsync(threeDaysAgo);
        Assert.Equal(422, refused.Status);
        Assert.Contains("2 days", refused.Body);
        Assert.Equal(200, (await Server.PostAsync(threeDaysAgo.Replace(server.ProjectId.ToString(), Server.ProjectId.ToString()))).Status); // 14 days here
    }

    async Task<(HttpClient Client, Guid UserId)> AdminClientAsync()
    {
        var user = await Accounts.CreateUserAsync(Server.Owner, $"admin-{Guid.NewGuid():N}@ingest.test", Server.OrgId, "admin");
        var client = new HttpClient { BaseAddress = new Uri(Server.Url) }.WithToken(await Accounts.CreateTokenAsync(Server.Owner, user));
        return (client, user);
    }
}
