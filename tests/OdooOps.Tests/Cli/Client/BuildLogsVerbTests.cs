using Dapper;
using OdooOps.Tests.Builds;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Cli.Client;

/// <summary>`odooops builds logs [--follow]`, `builds cancel` and `builds trigger --follow` as real processes against a live server.</summary>
public sealed class BuildLogsVerbTests(ClientServerFixture fx) : IClassFixture<ClientServerFixture>, IDisposable
{
    readonly CliSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    Dictionary<string, string> As(string token) => new() { ["ODOOOPS_URL"] = fx.Server.Url, ["ODOOOPS_TOKEN"] = token, ["NO_COLOR"] = "1" };

    async Task<(Guid Build, TestRunner Runner)> RunningBuildAsync(string branch = "feature-x")
    {
        var build = await TestRunner.QueueAsync(fx.Server.Owner, fx.ProjectId, branch);
        var runner = await TestRunner.RegisterAsync(fx.Server.Owner, null);
        await runner.StartAsync(build);
        return (build, runner);
    }

    Task<string> StatusAsync(Guid build) => QueryAsync<string>("select status from ops.builds where id = @build", new { build });

    async Task<T> QueryAsync<T>(string sql, object args)
    {
        await using var conn = await Accounts.OpenAsync(fx.Server.Owner);
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    [Fact]
    public async Task Logs_prints_stdout_and_stderr_apart_and_marks_system_lines()
    {
        var (build, runner) = await RunningBuildAsync();
        await runner.AppendAsync(build, ("system", "Checking out abc123"), ("stdout", "\u001b[32mINFO\u001b[0m module loaded"), ("stderr", "WARNING deprecated"));

        var r = await _sandbox.RunAsync(["builds", "logs", build.ToString()], env: As(fx.ViewerToken));

        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Equal(["[system] Checking out abc123", "INFO module loaded"], r.Output.TrimEnd().Split('\n')); // colour stripped off a pipe
        Assert.Equal("WARNING deprecated", r.Error.Trim());
    }

    [Theory]
    [InlineData("success", 0)]
    [InlineData("warning", 0)]
    [InlineData("failed", 1)]
    [InlineData("cancelled", 3)]
    [InlineData("timed_out", 4)]
    public async Task Follow_streams_until_the_end_and_exits_with_the_result(string result, int exitCode)
    {
        var (build, runner) = await RunningBuildAsync();
        await runner.AppendAsync(build, "before");
        var follow = _sandbox.RunAsync(["builds", "logs", build.ToString(), "--follow"], env: As(fx.ViewerToken));

        await Task.Delay(TimeSpan.FromSeconds(1.5)); // the CLI is connected (or connects): these lines come live or on connect
        await runner.AppendAsync(build, ("stdout", "during"), ("stderr", "complaint"));
        await runner.FinishAsync(build, result);
        var r = await follow.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(r.ExitCode == exitCode, $"exit {r.ExitCode}: {r.Error}");
        Assert.Equal(["before", "during"], r.Output.TrimEnd().Split('\n'));
        Assert.Contains("complaint", r.Error);
        Assert.Contains($"Build {build} finished: {result.Replace('_', ' ')}.", r.Error);
    }

    [Fact]
    public async Task Help_names_the_exit_codes()
    {
        var r = await _sandbox.RunAsync(["builds", "logs", "--help"]);
        Assert.Equal(0, r.ExitCode);
        var help = System.Text.RegularExpressions.Regex.Replace(r.Output, @"\s+", " "); // help wraps its lines
        Assert.Contains("0 success or warning, 1 failed", help);
        Assert.Contains("3 cancelled, 4 timed out", help);
    }

    [Fact]
    public async Task Cancel_cancels_a_queued_build_asks_a_running_one_and_refuses_a_finished_one()
    {
        var queued = await TestRunner.QueueAsync(fx.Server.Owner, fx.ProjectId, "staging");
        var r = await _sandbox.RunAsync(["builds", "cancel", queued.ToString()], env: As(fx.AdminToken));
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Equal($"Build {queued} is cancelled.", r.Output.Trim());
        Assert.Equal("cancelled", await StatusAsync(queued));

        var (running, _) = await RunningBuildAsync();
        r = await _sandbox.RunAsync(["builds", "cancel", running.ToString()], env: As(fx.AdminToken));
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("cancel requested", r.Output);
        Assert.Equal("running", await StatusAsync(running));
        Assert.True(await QueryAsync<bool>("select cancel_requested_at is not null from ops.builds where id = @running", new { running }));

        r = await _sandbox.RunAsync(["builds", "cancel", queued.ToString()], env: As(fx.AdminToken));
        Assert.Equal(1, r.ExitCode);
        var line = Assert.Single(r.Error.Trim().Split('\n'));
        Assert.StartsWith("error: ", line);
        Assert.Contains("already finished (cancelled)", line);

        var viewer = await _sandbox.RunAsync(["builds", "cancel", running.ToString()], env: As(fx.ViewerToken));
        Assert.Equal(1, viewer.ExitCode);
        Assert.Contains("you are viewer", viewer.Error);
    }

    [Fact]
    public async Task Trigger_with_follow_queues_then_follows_the_new_build()
    {
        var follow = _sandbox.RunAsync(["builds", "trigger", "--project", "erp", "--branch", "staging", "--commit", "f0110e", "--follow"], env: As(fx.AdminToken));

        Guid build = default;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (build == default && DateTime.UtcNow < deadline)
        {
            build = await QueryAsync<Guid>("select coalesce(max(id::text), '00000000-0000-0000-0000-000000000000')::uuid from ops.builds where commit_sha = 'f0110e'", new { });
            if (build == default) await Task.Delay(100);
        }
        Assert.NotEqual(default, build);
        var runner = await TestRunner.RegisterAsync(fx.Server.Owner, null);
        await runner.StartAsync(build);
        await runner.AppendAsync(build, "odoo: 3 tests failed");
        await runner.FinishAsync(build, "failed");
        var r = await follow.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, r.ExitCode);
        Assert.Equal("odoo: 3 tests failed", r.Output.Trim()); // stdout carries the log alone
        Assert.Contains($"Build {build} of erp/staging is queued (f0110e).", r.Error);
        Assert.Contains("finished: failed.", r.Error);
    }
}
