using System.Text.Json;
using Dapper;
using OdooOps.Tests.Cli;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Cli.Client;

/// <summary>`odooops advisories scan|list` and the doctor's "Advisory scan" row, as processes against a real server.</summary>
public sealed class AdvisoriesCommandTests(PostgresCluster cluster) : IAsyncLifetime
{
    readonly CliSandbox _sandbox = new();
    LiveServer _server = null!;
    string _token = "";
    Guid _project;

    public async ValueTask InitializeAsync()
    {
        _server = await LiveServer.StartAsync(cluster, "advcli");
        var org = await Accounts.CreateOrgAsync(_server.Owner, "cli-org");
        _token = await Accounts.CreateTokenAsync(_server.Owner, await Accounts.CreateUserAsync(_server.Owner, "dev@cli.test", org, "developer"));
        _project = await Accounts.CreateProjectAsync(_server.Owner, org, "erp");
        await using var conn = await Accounts.OpenAsync(_server.Owner);
        await conn.ExecuteAsync("""
            insert into ops.advisories (project_id, rule, fingerprint, severity, title) values
                (@_project, 'test_warning', 'test_warning', 'warning', 'Something to look at'),
                (@_project, 'test_info', 'test_info', 'info', 'Just so you know')
            """, new { _project });
    }

    Dictionary<string, string> Client => new() { ["ODOOOPS_URL"] = _server.Url, ["ODOOOPS_TOKEN"] = _token };

    [Theory]
    [InlineData("warning", 3)]
    [InlineData("info", 3)]
    [InlineData("critical", 0)]
    public async Task List_fail_on_exits_3_when_an_open_advisory_is_at_or_above_the_severity(string failOn, int exitCode)
    {
        var r = await _sandbox.RunAsync(["advisories", "list", "--project", "erp", "--fail-on", failOn], Client);
        Assert.True(r.ExitCode == exitCode, r.Output + r.Error);
        Assert.Contains("Something to look at", r.Output);
        if (exitCode == 3) Assert.Contains($"open advisory(ies) at or above {failOn}", r.Error);
    }

    [Fact]
    public async Task List_fail_on_looks_at_open_advisories_whatever_status_is_shown()
    {
        var r = await _sandbox.RunAsync(["advisories", "list", "--status", "resolved", "--fail-on", "warning", "--json"], Client);
        Assert.Equal(3, r.ExitCode);
        using var json = JsonDocument.Parse(r.Output);
        Assert.Empty(json.RootElement.GetProperty("advisories").EnumerateArray());
    }

    [Fact]
    public async Task List_refuses_an_unknown_fail_on_value()
    {
        var r = await _sandbox.RunAsync(["advisories", "list", "--fail-on", "severe"], Client);
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error: ", r.Error);
    }

    [Fact]
    public async Task Scan_with_the_token_from_the_environment_reports_the_counts()
    {
        var r = await _sandbox.RunAsync(["advisories", "scan", "--url", _server.Url, "--json"],
            new Dictionary<string, string> { ["OPS_ADVISORY_SCAN_TOKEN"] = TestHosts.AdvisoryScanToken });
        Assert.True(r.ExitCode == 0, r.Output + r.Error);
        using var json = JsonDocument.Parse(r.Output);
        Assert.Equal(2, json.RootElement.GetProperty("projects_scanned").GetInt32());
        // test_* are no rule of the scan's, so it leaves them alone: only a rule that ran may resolve.
        Assert.Equal((0, 0), (json.RootElement.GetProperty("advisories_created").GetInt32(), json.RootElement.GetProperty("advisories_resolved").GetInt32()));

        var wrong = await _sandbox.RunAsync(["advisories", "scan", "--url", _server.Url, "--token", "not-the-token"]);
        Assert.Equal(1, wrong.ExitCode);
        Assert.Equal($"error: {_server.Url} refused the scan token: check OPS_ADVISORY_SCAN_TOKEN.", wrong.Error.Trim());
        var none = await _sandbox.RunAsync(["advisories", "scan", "--url", _server.Url], new Dictionary<string, string> { ["OPS_ADVISORY_SCAN_TOKEN"] = "" });
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("no scan token", none.Error);
    }

    [Fact]
    public async Task Doctor_checks_the_scan_function_live()
    {
        var env = new Dictionary<string, string>(Client) { ["OPS_INGEST_TOKEN"] = TestHosts.IngestToken, ["OPS_ADVISORY_SCAN_TOKEN"] = TestHosts.AdvisoryScanToken };
        var r = await _sandbox.RunAsync(["doctor", "--url", _server.Url, "--database-url", CliSandbox.Url(_server.Owner)], env);
        var row = r.Output.Split('\n').Single(l => l.Length > 2 && l[2..].StartsWith("Advisory scan ", StringComparison.Ordinal));
        Assert.StartsWith("✓", row);
        Assert.Contains("refuses a wrong token (401) and scanned 2 project(s)", row);

        env["OPS_ADVISORY_SCAN_TOKEN"] = "a-different-token-0123456789abcdefghijklmnop";
        var refused = await _sandbox.RunAsync(["doctor", "--url", _server.Url, "--database-url", CliSandbox.Url(_server.Owner)], env);
        Assert.StartsWith("✗", refused.Output.Split('\n').Single(l => l.Length > 2 && l[2..].StartsWith("Advisory scan ", StringComparison.Ordinal)));
    }

    public async ValueTask DisposeAsync()
    {
        _sandbox.Dispose();
        await _server.DisposeAsync();
    }
}
