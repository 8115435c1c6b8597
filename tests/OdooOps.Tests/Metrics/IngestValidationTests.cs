using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using OdooOps.Metrics;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Metrics;

/// <summary>
/// Every refusal of the ingest endpoint: its status, a ProblemDetails body that names the field, and not one sample
/// stored (the batches also hold good samples, so a partial insert would show in the count).
/// </summary>
public sealed class IngestValidationTests(IngestWorld world) : IClassFixture<IngestWorld>
{
    IngestServer Server => world.Server;

    static string Iso(DateTime utc) => utc.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'");
    static string Now => Iso(DateTime.UtcNow);

    /// <summary>A batch of the project with one good sample first and then <paramref name="samples"/> (raw JSON).</summary>
    string Batch(string samples, string? ts = null, string? project = null) =>
        $$"""{"project_id": "{{project ?? Server.ProjectId.ToString()}}", "ts": "{{ts ?? Now}}", "samples": [{"metric": "ok.metric", "value": 1}, {{samples}}]}""";

    public static TheoryData<string, string, int, string> Refusals() => new()
    {
        // name, samples after the good one ({ts} = now), status, field
        { "metric upper case", """{"metric": "CPU", "value": 1}""", 400, "samples[1].metric" },
        { "metric too long", $$"""{"metric": "{{new string('a', 65)}}", "value": 1}""", 400, "samples[1].metric" },
        { "metric missing", """{"value": 1}""", 400, "samples[1].metric" },
        { "metric a number", """{"metric": 5, "value": 1}""", 400, "samples[1].metric" },
        { "value a string", """{"metric": "cpu_pct", "value": "45.2"}""", 400, "samples[1].value" },
        { "value the string NaN", """{"metric": "cpu_pct", "value": "NaN"}""", 400, "samples[1].value" },
        { "value the string Infinity", """{"metric": "cpu_pct", "value": "-Infinity"}""", 400, "samples[1].value" },
        { "value a bare NaN", """{"metric": "cpu_pct", "value": NaN}""", 400, "samples[1].value" },
        { "value a bare Infinity", """{"metric": "cpu_pct", "value": Infinity}""", 400, "samples[1].value" },
        { "value null", """{"metric": "cpu_pct", "value": null}""", 400, "samples[1].value" },
        { "value a boolean", """{"metric": "cpu_pct", "value": true}""", 400, "samples[1].value" },
        { "value beyond double", """{"metric": "cpu_pct", "value": 1e400}""", 400, "samples[1].value" },
        { "value missing", """{"metric": "cpu_pct"}""", 400, "samples[1].value" },
        { "sample ts without offset", """{"metric": "cpu_pct", "value": 1, "ts": "2026-02-12T17:30:00"}""", 400, "samples[1].ts" },
        { "sample ts 10 minutes ahead", """{"metric": "cpu_pct", "value": 1, "ts": "{future}"}""", 400, "samples[1].ts" },
        { "sample ts past retention", """{"metric": "cpu_pct", "value": 1, "ts": "{old}"}""", 422, "samples[1].ts" },
        { "unknown branch", """{"metric": "cpu_pct", "value": 1, "branch": "no-such-branch"}""", 400, "samples[1].branch" },
        { "branch a number", """{"metric": "cpu_pct", "value": 1, "branch": 7}""", 400, "samples[1].branch" },
        { "label value a number", """{"metric": "cpu_pct", "value": 1, "labels": {"host": 1}}""", 400, "samples[1].labels.host" },
        { "labels an array", """{"metric": "cpu_pct", "value": 1, "labels": ["a"]}""", 400, "samples[1].labels" },
        { "unknown sample field", """{"metric": "cpu_pct", "value": 1, "unit": "%"}""", 400, "samples[1].unit" },
        { "field given twice", """{"metric": "cpu_pct", "value": 1, "value": 2}""", 400, "samples[1].value" },
        { "sample not an object", "42", 400, "samples[1]" },
        // PostgreSQL text (and jsonb) cannot hold NUL: refused like any bad value, not a 500
        { "branch with a NUL", """{"metric": "cpu_pct", "value": 1, "branch": "ma\u0000in"}""", 400, "samples[1].branch" },
        { "label value with a NUL", """{"metric": "cpu_pct", "value": 1, "labels": {"host": "web\u00001"}}""", 400, "samples[1].labels.host" },
        { "label name with a NUL", """{"metric": "cpu_pct", "value": 1, "labels": {"ho\u0000st": "web-1"}}""", 400, "samples[1].labels" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task A_bad_sample_refuses_the_whole_batch_naming_its_field(string name, string sample, int status, string field)
    {
        sample = sample.Replace("{future}", Iso(DateTime.UtcNow.AddMinutes(10))).Replace("{old}", Iso(DateTime.UtcNow.AddDays(-15)));
        await AssertRefusedAsync(Batch(sample), status, field, name);
    }

    [Fact]
    public async Task Batch_fields_are_checked_and_named()
    {
        await AssertRefusedAsync(Batch("""{"metric": "b", "value": 1}""", ts: "2026-02-12T17:30:00"), 400, "ts", "ts without offset");
        await AssertRefusedAsync(Batch("""{"metric": "b", "value": 1}""", ts: "yesterday"), 400, "ts", "ts not a date");
        await AssertRefusedAsync(Batch("""{"metric": "b", "value": 1}""", ts: Iso(DateTime.UtcNow.AddMinutes(6))), 400, "ts", "ts in the future");
        await AssertRefusedAsync(Batch("""{"metric": "b", "value": 1}""", ts: Iso(DateTime.UtcNow.AddDays(-14).AddMinutes(-1))), 422, "ts", "ts past retention");
        await AssertRefusedAsync(Batch("""{"metric": "b", "value": 1}""", project: "not-a-uuid"), 400, "project_id", "project_id not a uuid");
        await AssertRefusedAsync(Batch("""{"metric": "b", "value": 1}""", project: Guid.NewGuid().ToString()), 404, "project_id", "unknown project");
        await AssertRefusedAsync($$"""{"ts": "{{Now}}", "samples": []}""", 400, "project_id", "project_id missing");
        await AssertRefusedAsync($$"""{"project_id": "{{Server.ProjectId}}", "samples": [{"metric": "b", "value": 1}]}""", 400, "ts", "no ts anywhere");
        await AssertRefusedAsync($$$"""{"project_id": "{{{Server.ProjectId}}}", "ts": "{{{Now}}}", "samples": {"a": 1}}""", 400, "samples", "samples not an array");
        await AssertRefusedAsync($$"""{"project_id": "{{Server.ProjectId}}", "ts": "{{Now}}", "samples": [], "extra": 1}""", 400, "extra", "unknown field");
        await AssertRefusedAsync("[1, 2]", 400, "body", "body an array");
        await AssertRefusedAsync("""{"project_id": "x", """, 400, "body", "truncated JSON");
        await AssertRefusedAsync(Batch("""{"metric": "b", "value": 1}""") + " trailing", 400, "body", "text after the object");
    }

    [Fact]
    public async Task More_than_10000_samples_are_refused_and_exactly_10000_stored()
    {
        var start = DateTime.UtcNow.AddMinutes(-30);
        string Samples(int n) => string.Join(",", Enumerable.Range(0, n).Select(i => $$"""{"metric":"many","value":{{i}},"ts":"{{Iso(start.AddMilliseconds(i))}}"}"""));
        var tooMany = $$"""{"project_id":"{{Server.ProjectId}}","ts":"{{Now}}","samples":[{{Samples(10_001)}}]}""";
        Assert.True(Encoding.UTF8.GetByteCount(tooMany) < IngestSettings.MaxBodyBytes, "the refusal must be about the count, not the size");
        await AssertRefusedAsync(tooMany, 400, "samples", "10001 samples");

        var before = await Server.SampleCountAsync();
        var answer = await Server.PostAsync($$"""{"project_id":"{{Server.ProjectId}}","ts":"{{Now}}","samples":[{{Samples(10_000)}}]}""");
        Assert.Equal("""{"inserted": 10000}""", answer.Body);
        Assert.Equal(before + 10_000, await Server.SampleCountAsync());
    }

    [Fact]
    public async Task A_missing_or_wrong_token_gets_the_same_401()
    {
        var body = Batch("""{"metric": "t", "value": 1}""");
        var before = await Server.SampleCountAsync();
        var answers = new[]
        {
            await Server.PostAsync(body, token: null),
            await Server.PostAsync(body, token: TestHosts.IngestToken + "x"),
            await Server.PostAsync(body, token: "oo_ing_" + new string('A', 43)),
            await Server.PostAsync(body, token: TestHosts.AdvisoryScanToken),
        };
        Assert.All(answers, a => Assert.Equal((401, "application/problem+json"), (a.Status, a.MediaType)));
        var bodies = answers.Select(a => WithoutTraceId(a.Body)).Distinct().ToList();
        Assert.True(bodies.Count == 1, string.Join("\n", bodies));
        Assert.Contains(MetricsIngestApi.TokenHeader, answers[0].Body);
        Assert.Equal(before, await Server.SampleCountAsync());
    }

    [Fact]
    public async Task Only_json_up_to_1_MiB_is_read()
    {
        var before = await Server.SampleCountAsync();
        var body = Batch("""{"metric": "m", "value": 1}""");
        await AssertAnswerAsync(await Server.PostAsync(body, contentType: "text/plain"), 415, "content-type");
        await AssertAnswerAsync(await Server.PostAsync(body, contentType: null), 415, "content-type");
        await AssertAnswerAsync(await Server.PostAsync(body, contentType: "application/json; charset=latin1"), 415, "content-type");

        // Valid JSON padded past the limit: with a Content-Length, and chunked (no length announced).
        var big = body[..^1] + new string(' ', IngestSettings.MaxBodyBytes) + "}";
        await AssertAnswerAsync(await Server.PostAsync(big), 413, "body");
        using var chunked = new HttpRequestMessage(HttpMethod.Post, MetricsIngestApi.Route)
        {
            Content = new StreamContent(new UnknownLengthStream(Encoding.UTF8.GetBytes(big))),
        };
        chunked.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        chunked.Headers.Add(MetricsIngestApi.TokenHeader, TestHosts.IngestToken);
        await AssertAnswerAsync(await Server.SendAsync(chunked), 413, "body");
        Assert.Equal(before, await Server.SampleCountAsync());

        // The same request within the limit is taken, with a charset too.
        Assert.Equal("""{"inserted": 2}""", (await Server.PostAsync(body, contentType: "application/json; charset=utf-8")).Body);
    }

    async Task AssertRefusedAsync(string body, int status, string field, string because)
    {
        var before = await Server.SampleCountAsync();
        var answer = await Server.PostAsync(body);
        await AssertAnswerAsync(answer, status, field, because);
        Assert.Equal(before, await Server.SampleCountAsync());
    }

    static Task AssertAnswerAsync(Answer answer, int status, string field, string because = "")
    {
        Assert.True(answer.Status == status && answer.MediaType == "application/problem+json", $"{because}: expected {status}, got {answer}");
        using var problem = JsonDocument.Parse(answer.Body);
        Assert.Equal(status, problem.RootElement.GetProperty("status").GetInt32());
        var fields = problem.RootElement.GetProperty("errors").EnumerateObject().Select(p => p.Name).ToList();
        Assert.True(fields.Contains(field), $"{because}: expected errors to name {field}, got {answer.Body}");
        return Task.CompletedTask;
    }

    static string WithoutTraceId(string problem) =>
        System.Text.RegularExpressions.Regex.Replace(problem, "\"trace_?[iI]d\":\"[^\"]*\"", "");

    /// <summary>A stream that does not say how long it is, so HttpClient sends it chunked.</summary>
    sealed class UnknownLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
