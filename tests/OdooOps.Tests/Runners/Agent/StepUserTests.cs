using OdooOps.Runners.Agent.Execution;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Runners.Agent;

/// <summary>
/// `odooops runner --step-user` (OPS_RUNNER_STEP_USER): steps run as another OS user — they own their workspace and a
/// HOME inside it, but cannot read what only the runner's user may (here a stand-in for its token, mode 0600), and a
/// cancel still ends them. The test process runs as root, as the runner must for this.
/// </summary>
public sealed class StepUserTests(PostgresCluster cluster) : IAsyncLifetime
{
    RunnerWorld _world = null!;
    readonly CancellationTokenSource _stop = new();
    Task _runner = Task.CompletedTask;

    public async ValueTask InitializeAsync()
    {
        _world = await RunnerWorld.StartAsync(cluster);
        Directory.CreateDirectory(_world.WorkDir);
        File.SetUnixFileMode(_world.WorkDir, (UnixFileMode)0b111_101_101); // 0755, as a runner's work dir is
        // The step user is what an unsandboxed runner (OPS_RUNNER_UNSANDBOXED=1) still offers.
        _runner = await _world.StartRunnerAsync(_stop.Token, stepUser: await StepUser.ResolveAsync("nobody"),
            sandbox: new OdooOps.Runners.Agent.Sandbox.SandboxSettings { Enabled = false });
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _runner;
        await _world.DisposeAsync();
    }

    [Fact]
    public async Task Steps_run_as_the_step_user_in_a_workspace_of_their_own_and_cannot_read_the_runners_secrets()
    {
        var secret = Path.Combine(_world.WorkDir, "runner-token");
        await File.WriteAllTextAsync(secret, "oo_run_not-for-builds");
        File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var commit = await _world.CommitPipelineAsync($$"""
            steps:
              - name: who
                run: |
                  echo "user=$(id -un)"
                  if cat '{{secret}}' 2>/dev/null; then echo "token leaked"; else echo "token unreadable"; fi
                  touch built-here && echo "workspace writable"
                  touch "$HOME/.cache-probe" && echo "home writable"
            """);
        var id = await _world.QueueBuildAsync("main", commit);
        var build = await _world.WaitForAsync(id, TimeSpan.FromSeconds(60));
        var log = await _world.LogAsync(id);

        Assert.True(build.Status == "success", string.Join("\n", log));
        Assert.Contains("stdout: user=nobody", log);
        Assert.Contains("stdout: token unreadable", log);
        Assert.Contains("stdout: workspace writable", log);
        Assert.Contains("stdout: home writable", log);
        Assert.DoesNotContain(log, l => l.Contains("not-for-builds", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unknown_step_user_is_refused_in_one_line()
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => StepUser.ResolveAsync("no-such-user-here"));
        Assert.Equal("No OS user 'no-such-user-here' to run steps as.", e.Message);
    }
}
