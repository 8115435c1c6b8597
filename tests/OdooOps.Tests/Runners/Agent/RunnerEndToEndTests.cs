using Dapper;
using OdooOps.Tests.Runners.Agent.Execution;
using System.Text.Json;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Runners.Agent;

/// <summary>
/// Builds executed for real: a git repository made by the test, a .odooops.yml whose steps echo, sleep, print
/// Odoo-style WARNING and ERROR lines and exit non-zero, run by the same runner agent `odooops runner` uses, talking
/// HTTP to a real server. Each result colour is reached; steps, logs, commit and modules are recorded.
/// </summary>
public sealed class RunnerEndToEndTests(PostgresCluster cluster) : IAsyncLifetime
{
    RunnerWorld _world = null!;
    readonly CancellationTokenSource _stop = new();
    Task _runner = Task.CompletedTask;
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public async ValueTask InitializeAsync()
    {
        _world = await RunnerWorld.StartAsync(cluster);
        _runner = await _world.StartRunnerAsync(_stop.Token, capacity: 4);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _runner;
        await _world.DisposeAsync();
    }

    const string OdooWarning = "2024-05-01 10:00:00,123 4242 WARNING testdb odoo.modules.loading: deprecated field";
    const string OdooError = "2024-05-01 10:00:01,456 4242 ERROR testdb odoo.sql_db: bad query";

    async Task<(WorldBuild Build, List<string> Log)> RunPipelineAsync(string yaml)
    {
        var commit = await _world.CommitPipelineAsync(yaml);
        var id = await _world.QueueBuildAsync("main", commit);
        var build = await _world.WaitForAsync(id, Patience);
        return (new WorldBuild(id, build), await _world.LogAsync(id));
    }

    sealed record WorldBuild(Guid Id, RunnerWorld.BuildRow Row);

    [Fact]
    public async Task A_passing_pipeline_succeeds_with_its_steps_logs_and_build_variables()
    {
        var (build, log) = await RunPipelineAsync("""
            steps:
              - name: hello
                run: |
                  echo "building $ODOOOPS_PROJECT/$ODOOOPS_BRANCH ($ODOOOPS_STAGE) at $ODOOOPS_COMMIT"
                  echo to-stderr >&2
              - name: wait
                run: sleep 0.3 && echo "step env $GREETING"
                env: {GREETING: hi}
            """);

        Assert.Equal("success", build.Row.Status);
        Assert.Contains($"stdout: building app/main (production) at {build.Row.CommitSha}", log);
        Assert.Contains("stderr: to-stderr", log);
        Assert.Contains("stdout: step env hi", log);
        Assert.Contains(log, l => l.StartsWith("system: Attempt 1 on runner test-runner"));
        var steps = await _world.StepsAsync(build.Id);
        Assert.Equal([("hello", "success", (int?)0), ("wait", "success", 0)], steps.Select(s => (s.Name, s.Status, s.ExitCode)));
        Assert.True(steps[1].DurationMs >= 300, $"duration {steps[1].DurationMs}");
    }

    [Theory]
    [InlineData("echo '" + OdooWarning + "'", "warning")]
    [InlineData("echo '" + OdooError + "'", "failed")]
    [InlineData("echo before; exit 3", "failed")]
    public async Task Odoo_log_levels_and_exit_codes_colour_the_result(string run, string expected)
    {
        var (build, _) = await RunPipelineAsync($"""
            steps:
              - name: check
                run: {JsonSerializer.Serialize(run)}
              - name: after
                run: echo after
            """);

        Assert.Equal(expected, build.Row.Status);
        var steps = await _world.StepsAsync(build.Id);
        Assert.Equal(run.Contains("exit 3") ? "skipped" : "success", steps[1].Status);
        if (run.Contains("exit 3")) Assert.Equal(3, steps[0].ExitCode);
    }

    [Fact]
    public async Task A_step_allowed_to_fail_makes_a_warning_and_a_step_timeout_a_timed_out_build()
    {
        var (allowed, _) = await RunPipelineAsync("""
            steps:
              - {name: flaky, run: exit 1, continue_on_error: true}
              - {name: fine, run: echo ok}
            """);
        Assert.Equal("warning", allowed.Row.Status);

        var (slow, log) = await RunPipelineAsync("""
            steps:
              - {name: slow, run: sleep 30, timeout: 1s}
            """);
        Assert.Equal("timed_out", slow.Row.Status);
        Assert.Equal("timed_out", Assert.Single(await _world.StepsAsync(slow.Id)).Status);
        Assert.Contains(log, l => l.StartsWith("system: Result: timed_out"));
    }

    [Fact]
    public async Task Invalid_yaml_fails_the_build_naming_the_line()
    {
        var (build, log) = await RunPipelineAsync("steps:\n  - name: a\n    run: echo\n  - name: b\n    nope: 1\n");

        Assert.Equal("failed", build.Row.Status);
        Assert.Contains(log, l => l.StartsWith("system: .odooops.yml: line 5"));
        Assert.Empty(await _world.StepsAsync(build.Id));
    }

    [Fact]
    public async Task Without_a_commit_the_branch_head_is_built_and_without_a_pipeline_odoo_defaults_find_the_modules()
    {
        var head = await _world.Repo.CommitFilesAsync("an addon",
            ("addons/sale_extra/__manifest__.py", "{'name': 'Sale Extra', 'version': '19.0.1.0.0', 'depends': ['sale'], 'installable': True}"),
            ("addons/sale_extra/__init__.py", ""));

        var id = await _world.QueueBuildAsync("main");
        var build = await _world.WaitForAsync(id, Patience);
        var log = await _world.LogAsync(id);

        Assert.Equal(head, build.CommitSha);
        Assert.Equal("success", build.Status);
        using var modules = JsonDocument.Parse(build.Modules);
        var module = Assert.Single(modules.RootElement.EnumerateArray());
        Assert.Equal(("sale_extra", "19.0.1.0.0", "sale"), (module.GetProperty("name").GetString(), module.GetProperty("version").GetString(),
            module.GetProperty("depends")[0].GetString()));
        Assert.Contains(log, l => l.Contains("Odoo is not installed on this runner"));
        Assert.Equal("skipped", (await _world.StepsAsync(id)).Single(s => s.Name == "odoo").Status);
    }

    [Fact]
    public async Task Secret_variables_reach_the_steps_but_their_values_are_masked_in_the_log()
    {
        await using (var conn = await Accounts.OpenAsync(_world.Owner))
            await conn.ExecuteAsync("""
                insert into ops.env_vars (project_id, stage, name, value, is_secret) values
                    (@ProjectId, 'production', 'API_KEY', 'sk-live-0123456789', true),
                    (@ProjectId, 'production', 'GREETING', 'hello-world', false)
                """, new { _world.ProjectId });
        var (build, log) = await RunPipelineAsync("""
            steps:
              - name: use them
                run: |
                  echo "key=$API_KEY greeting=$GREETING"
                  test "$API_KEY" = sk-live-0123456789
                  echo "$API_KEY" >&2
            """);

        Assert.Equal("success", build.Row.Status); // the step saw the real value
        Assert.Contains("stdout: key=*** greeting=hello-world", log);
        Assert.Contains("stderr: ***", log);
        Assert.DoesNotContain(log, l => l.Contains("sk-live", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_runner_disabled_mid_build_stops_the_build_and_its_processes_at_the_next_heartbeat()
    {
        var commit = await _world.CommitPipelineAsync("""
            steps:
              - name: long
                run: |
                  sleep 600 &
                  echo "long step running as $(id -u)"
                  wait
            """);
        var id = await _world.QueueBuildAsync("main", commit);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        string? running;
        while ((running = (await _world.LogAsync(id)).FirstOrDefault(l => l.StartsWith("stdout: long step running as "))) is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the step never ran");
            await Task.Delay(100);
        }
        // The build's processes are those of its sandbox's uid.
        var uid = int.Parse(running["stdout: long step running as ".Length..]);
        Assert.NotEmpty(ProcessProbe.ProcessesOf(uid));

        await using (var conn = await Accounts.OpenAsync(_world.Owner))
            await conn.ExecuteAsync("update ops.runners set disabled_at = now() where name = 'test-runner'");

        deadline = DateTime.UtcNow.AddSeconds(15);
        while (ProcessProbe.ProcessesOf(uid).Count > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the step kept running on a disabled runner");
            await Task.Delay(100);
        }
        Assert.Equal("running", (await _world.BuildAsync(id)).Status); // no result from a disabled runner: the rescuer decides
    }

    [Fact]
    public async Task A_missing_commit_fails_the_build_with_a_clear_message()
    {
        var id = await _world.QueueBuildAsync("main", new string('a', 40));
        var build = await _world.WaitForAsync(id, Patience);
        Assert.Equal("failed", build.Status);
        Assert.Contains("aaaaaaaa", build.ResultDetail);
    }
}
