using System.Diagnostics;
using System.Text.Json;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Instances;

namespace OdooOps.Tests.Cli.Client;

/// <summary>`odooops instances list|show|start|stop|restart|logs` as real processes against a live server.</summary>
public sealed class InstancesCommandTests(ClientServerFixture fx) : IClassFixture<ClientServerFixture>, IDisposable
{
    readonly CliSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    Dictionary<string, string> As(string token) => new() { ["ODOOOPS_URL"] = fx.Server.Url, ["ODOOOPS_TOKEN"] = token, ["NO_COLOR"] = "1" };

    Task<CliRunner.Result> RunAsync(string token, params string[] args) => _sandbox.RunAsync(args, env: As(token));

    Task<Guid> InstanceAsync(string branch, InstanceRows.Options? options = null) => InstanceRows.InsertAsync(fx.Server.Owner, fx.ProjectId, branch, options);

    Task<string> DesiredAsync(Guid instance) =>
        InstanceRows.ScalarAsync<string>(fx.Server.Owner, "select desired || ':' || restart_generation from ops.instances where id = @instance", new { instance });

    [Fact]
    public async Task List_and_show_tell_state_url_and_release()
    {
        var main = await InstanceAsync("main", new(Commit: "feedbeef00112233"));
        var feature = await InstanceAsync("feature-x", new(State: "failed", Reason: "crashed 5 times in 10 minutes", Restarts: 5));
        var label = await InstanceRows.ScalarAsync<string>(fx.Server.Owner, "select host_label from ops.projects where id = @ProjectId", new { fx.ProjectId });
        var port = new Uri(fx.Server.Url).Port;

        var list = await RunAsync(fx.ViewerToken, "instances", "list", "-p", "erp");
        Assert.True(list.ExitCode == 0, list.Error);
        var row = list.Output.Split('\n').Single(l => l.StartsWith(main.ToString()));
        Assert.Contains($"http://main.{label}.localhost:{port}", row);
        Assert.Contains("feedbeef0011", row);
        Assert.Contains("production", row);
        Assert.Contains("failed: crashed 5 times in 10 minutes", list.Output.Split('\n').Single(l => l.StartsWith(feature.ToString())));

        var everywhere = await RunAsync(fx.ViewerToken, "instances", "list", "--json");
        Assert.True(everywhere.ExitCode == 0, everywhere.Error);
        var ids = JsonDocument.Parse(everywhere.Output).RootElement.GetProperty("instances").EnumerateArray().Select(i => i.GetProperty("id").GetGuid()).ToList();
        Assert.Contains(main, ids);
        Assert.Contains(feature, ids);

        var onlyFeature = await RunAsync(fx.ViewerToken, "instances", "list", "-p", "erp", "--branch", "feature-x", "--json");
        Assert.All(JsonDocument.Parse(onlyFeature.Output).RootElement.GetProperty("instances").EnumerateArray(),
            i => Assert.Equal("feature-x", i.GetProperty("branch").GetString()));

        var show = await RunAsync(fx.ViewerToken, "instances", "show", feature.ToString());
        Assert.True(show.ExitCode == 0, show.Error);
        Assert.Contains("failed: crashed 5 times in 10 minutes", show.Output);
        Assert.Contains("feature-x (development, current)", show.Output);

        Assert.Contains("No instance with the id", CliSandbox.OneLineError(await RunAsync(fx.ViewerToken, "instances", "show", Guid.NewGuid().ToString())));
    }

    [Fact]
    public async Task Stopping_or_restarting_production_needs_yes_and_others_do_not()
    {
        var production = await InstanceAsync("main");
        foreach (var action in new[] { "stop", "restart" })
        {
            var refused = await RunAsync(fx.AdminToken, "instances", action, production.ToString());
            Assert.Contains("production instance of main", CliSandbox.OneLineError(refused));
            Assert.Contains("--yes", refused.Error);
        }
        Assert.Equal("running:0", await DesiredAsync(production));

        var stopped = await RunAsync(fx.AdminToken, "instances", "stop", production.ToString(), "--yes");
        Assert.True(stopped.ExitCode == 0, stopped.Error);
        Assert.Contains("stop requested", stopped.Output);
        Assert.Equal("stopped:0", await DesiredAsync(production));
        Assert.Equal(0, (await RunAsync(fx.AdminToken, "instances", "start", production.ToString())).ExitCode);

        var staging = await InstanceAsync("staging");
        var restarted = await RunAsync(fx.AdminToken, "instances", "restart", staging.ToString(), "--json");
        Assert.True(restarted.ExitCode == 0, restarted.Error);
        Assert.Equal(staging, JsonDocument.Parse(restarted.Output).RootElement.GetProperty("id").GetGuid());
        Assert.Equal("running:1", await DesiredAsync(staging));

        Assert.Contains("you are viewer", CliSandbox.OneLineError(await RunAsync(fx.ViewerToken, "instances", "restart", staging.ToString())));
        Assert.Equal("running:1", await DesiredAsync(staging));
    }

    [Fact]
    public async Task Logs_filter_by_level_and_text_and_follow_prints_new_lines()
    {
        var instance = await InstanceAsync("feature-x");
        await InstanceRows.AppendAsync(fx.Server.Owner, instance, ("INFO", "loading invoice module"), ("WARNING", "Invoice 7 has no lines"), ("ERROR", "boom"));

        var filtered = await RunAsync(fx.ViewerToken, "instances", "logs", instance.ToString(), "--level", "warning", "--grep", "INVOICE");
        Assert.True(filtered.ExitCode == 0, filtered.Error);
        Assert.Equal("Invoice 7 has no lines", filtered.Output.Trim());

        var json = await RunAsync(fx.ViewerToken, "instances", "logs", instance.ToString(), "--json", "-n", "2");
        Assert.Equal(["WARNING", "ERROR"], json.Output.Trim().Split('\n').Select(l => JsonDocument.Parse(l).RootElement.GetProperty("level").GetString()));

        Assert.Contains("level must be one of", CliSandbox.OneLineError(await RunAsync(fx.ViewerToken, "instances", "logs", instance.ToString(), "--level", "LOUD")));

        using var follow = Process.Start(CliRunner.StartInfo(["instances", "logs", instance.ToString(), "--follow", "--level", "ERROR"], _sandbox.Env(As(fx.ViewerToken))))!;
        try
        {
            follow.StandardInput.Close();
            using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            Assert.Equal("boom", await follow.StandardOutput.ReadLineAsync(patience.Token)); // the tail first
            // The follower connects after printing the tail; lines appended until then come with its first read.
            await InstanceRows.AppendAsync(fx.Server.Owner, instance, ("INFO", "quiet"), ("CRITICAL", "registry failed"));
            Assert.Equal("registry failed", await follow.StandardOutput.ReadLineAsync(patience.Token));
        }
        finally
        {
            follow.Kill(entireProcessTree: true);
        }
    }
}
