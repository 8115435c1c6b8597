using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Metrics;

namespace OdooOps.Tests.Cli.Client;

/// <summary>
/// `odooops metrics push`, the real binary against a live server: prints "inserted N", errors in one line; a server that
/// answers 503 (its database down) is tried again after its Retry-After, a few times, then given up in one line.
/// </summary>
public sealed class MetricsPushCommandTests(IngestWorld world) : IClassFixture<IngestWorld>
{
    IngestServer Server => world.Server;

    /// <summary>The CLI with a clean environment: no ODOOOPS_URL or OPS_INGEST_TOKEN unless given.</summary>
    static Task<CliRunner.Result> RunAsync(IEnumerable<string> args, string? envToken = null, string? envUrl = null) =>
        CliRunner.RunAsync(["metrics", "push", .. args], new Dictionary<string, string>
        {
            ["OPS_INGEST_TOKEN"] = envToken ?? "",
            ["ODOOOPS_URL"] = envUrl ?? "",
        });

    [Fact]
    public async Task Push_sends_the_samples_and_prints_how_many_were_new()
    {
        var ts = DateTime.UtcNow.AddMinutes(-2).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"); // the seed's format
        string[] args = ["--project", Server.ProjectId.ToString(), "--metric", "cli.cpu=45.2", "--metric", "cli.mem=1024", "--ts", ts, "--url", Server.Url];

        var first = await RunAsync(args, envToken: TestHosts.IngestToken);
        Assert.True(first.ExitCode == 0, first.Error);
        Assert.Equal("inserted 2\n", first.Output);
        Assert.Equal("inserted 0\n", (await RunAsync(args, envToken: TestHosts.IngestToken)).Output);

        // --token instead of the environment, ODOOOPS_URL instead of --url, a named branch and the default ts (now).
        var staging = await RunAsync(["--project", Server.ProjectId.ToString(), "--metric", "cli.cpu=1", "--branch", "staging", "--token", TestHosts.IngestToken],
            envUrl: Server.Url);
        Assert.True(staging.ExitCode == 0, staging.Error);
        Assert.Equal("inserted 1\n", staging.Output);

        await using var conn = await Server.OpenOwnerAsync();
        var rows = await conn.QueryAsync<(string, string, double)>("""
            select s.metric, b.name, s.value from ops.metric_samples s join ops.branches b on b.id = s.branch_id
             where s.metric like 'cli.%' order by b.name, s.metric
            """);
        Assert.Equal([("cli.cpu", "main", 45.2), ("cli.mem", "main", 1024d), ("cli.cpu", "staging", 1d)], rows);
    }

    [Fact]
    public async Task Failures_are_one_line_and_exit_1()
    {
        var project = Server.ProjectId.ToString();
        var before = await Server.SampleCountAsync();
        var cases = new (string[] Args, string? Token, string Expect)[]
        {
            (["--project", project, "--metric", "cli.x=1", "--url", Server.Url], null, "OPS_INGEST_TOKEN"),
            (["--project", project, "--metric", "cli.x=1", "--url", Server.Url], "wrong-token", "x-ops-ingest-token"),
            (["--project", project, "--metric", "CLI=1", "--url", Server.Url], TestHosts.IngestToken, "samples[0].metric"),
            (["--project", project, "--metric", "cli.x=1", "--branch", "nope", "--url", Server.Url], TestHosts.IngestToken, "no branch named 'nope'"),
            (["--project", project, "--metric", "cli.x=abc", "--url", Server.Url], TestHosts.IngestToken, "NAME=NUMBER"),
            (["--project", project, "--metric", "cli.x=1", "--ts", "2026-02-12T17:30:00", "--url", Server.Url], TestHosts.IngestToken, "--ts"),
            (["--project", "prod-erp", "--metric", "cli.x=1", "--url", Server.Url], TestHosts.IngestToken, "UUID"),
            (["--project", project, "--metric", "cli.x=1", "--url", "http://127.0.0.1:1"], TestHosts.IngestToken, "cannot reach"),
        };
        foreach (var (args, token, expect) in cases)
        {
            var result = await RunAsync(args, envToken: token);
            Assert.True(result.ExitCode == 1, $"{string.Join(' ', args)}: exit {result.ExitCode} {result.Output} {result.Error}");
            Assert.Equal("", result.Output);
            var line = Assert.Single(result.Error.TrimEnd('\n').Split('\n'));
            Assert.StartsWith("error: ", line);
            Assert.Contains(expect, line);
        }
        Assert.Equal(before, await Server.SampleCountAsync());
    }

    [Fact]
    public async Task A_503_is_tried_again_after_its_retry_after_and_given_up_after_four_tries()
    {
        var project = Guid.NewGuid().ToString();
        await using (var twice = await BusyServer.StartAsync(busyAnswers: 2))
        {
            var result = await RunAsync(["--project", project, "--metric", "cli.x=1", "--url", twice.Url], envToken: TestHosts.IngestToken);
            Assert.True(result.ExitCode == 0, result.Error);
            Assert.Equal("inserted 1\n", result.Output);
            Assert.Equal(3, twice.Calls.Count);
            Assert.True(twice.Calls[1] - twice.Calls[0] >= TimeSpan.FromSeconds(1), "the first retry came before the Retry-After of 1 s");
        }
        await using var always = await BusyServer.StartAsync(busyAnswers: int.MaxValue);
        var failed = await RunAsync(["--project", project, "--metric", "cli.x=1", "--url", always.Url], envToken: TestHosts.IngestToken);
        Assert.Equal(1, failed.ExitCode);
        var line = Assert.Single(failed.Error.TrimEnd('\n').Split('\n'));
        Assert.Equal("error: Database unavailable: try again later. (gave up after 4 tries)", line);
        Assert.Equal(4, always.Calls.Count);
    }

    /// <summary>An ingest endpoint whose first answers are 503 with Retry-After: 1, then {"inserted": 1}.</summary>
    sealed class BusyServer : IAsyncDisposable
    {
        readonly WebApplication _app;
        public List<TimeSpan> Calls { get; } = [];
        public string Url => _app.Urls.First();

        BusyServer(WebApplication app) => _app = app;

        public static async Task<BusyServer> StartAsync(int busyAnswers)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var server = new BusyServer(builder.Build());
            var clock = System.Diagnostics.Stopwatch.StartNew();
            server._app.MapPost(OdooOps.Metrics.MetricsIngestApi.Route, (HttpResponse response) =>
            {
                lock (server.Calls) server.Calls.Add(clock.Elapsed);
                if (server.Calls.Count > busyAnswers) return Results.Text("""{"inserted": 1}""", "application/json");
                response.Headers.RetryAfter = "1";
                return Results.Problem("try again later.", statusCode: 503, title: "Database unavailable");
            });
            await server._app.StartAsync();
            return server;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
