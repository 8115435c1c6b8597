using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using OdooOps.Runners.Agent;
using OdooOps.Runners.Agent.Sandbox;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Runners.Agent.Execution;

namespace OdooOps.Tests.Runners.Agent;

/// <summary>
/// Whole builds on a real runner whose steps attack the platform: the server (this process), the runner's work dir
/// and token, a kept failed workspace, another project's running build; and limits that end a build, not the runner.
/// </summary>
// Builds that exhaust their memory and process limits keep both cores busy: with the heavy tests, alone.
[Collection(HeavyTests.Name)]
public sealed class SandboxedBuildTests(PostgresCluster cluster) : IAsyncLifetime
{
    RunnerWorld _world = null!;
    readonly CancellationTokenSource _stop = new();
    Task _runner = Task.CompletedTask;
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    public async ValueTask InitializeAsync()
    {
        _world = await RunnerWorld.StartAsync(cluster);
        _runner = await _world.StartRunnerAsync(_stop.Token, capacity: 2,
            sandbox: new SandboxSettings { MemoryBytes = 96L << 20, MaxProcesses = 64, LockDirectory = Path.Combine(_world.WorkDir, "locks") });
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _runner;
        await _world.DisposeAsync();
    }

    string RunnerDir => Path.Combine(_world.WorkDir, "test-runner");

    static (string, string) Pipeline(params string[] runs) => (".odooops.yml",
        "steps:\n" + string.Concat(runs.Select((run, i) => $"  - name: step{i + 1}\n    run: {JsonSerializer.Serialize(run)}\n")));

    async Task<(RunnerWorld.BuildRow Build, List<string> Log)> BuildAsync(string branch, string commit, Guid? project = null)
    {
        var id = await QueueAsync(project ?? _world.ProjectId, branch, commit);
        var build = await _world.WaitForAsync(id, Patience);
        return (build, await _world.LogAsync(id));
    }

    async Task<Guid> QueueAsync(Guid project, string branch, string commit)
    {
        await using var conn = await Accounts.OpenAsync(_world.Owner);
        return await conn.ExecuteScalarAsync<Guid>("""
            insert into ops.builds (project_id, branch_id, trigger, commit_sha)
            select project_id, id, 'push', @commit from ops.branches where project_id = @project and name = @branch returning id
            """, new { project, branch, commit });
    }

    [Fact]
    public async Task A_build_sees_neither_the_server_nor_the_runners_files_nor_a_kept_failed_workspace()
    {
        var failing = await _world.Repo.CommitFilesAsync("fails", Pipeline("echo tenant-a-secret > secret.txt; exit 1"));
        var (failed, _) = await BuildAsync("main", failing);
        Assert.Equal("failed", failed.Status);
        var kept = Directory.GetDirectories(Path.Combine(RunnerDir, "builds")).Single();
        Assert.True(File.Exists(Path.Combine(kept, "secret.txt")));

        var self = Environment.ProcessId;
        var attack = await _world.Repo.CommitFilesAsync("attacks", Pipeline(string.Join("; ",
            $"cat /proc/{self}/environ /proc/{self}/cmdline 2>/dev/null && echo LEAK-serve",
            $"cat '{RunnerDir}/runner-token' '{_world.WorkDir}'/* 2>/dev/null && echo LEAK-runner",
            $"cat '{kept}/secret.txt' 2>/dev/null && echo LEAK-kept",
            $"ls '{RunnerDir}/builds' | grep -x '{Path.GetFileName(kept)}' && echo LEAK-builds",
            // serve's port and its database's, on the host's loopback
            $"timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/{_world.Url.Port}' 2>/dev/null && echo LEAK-serve-port",
            $"timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/{_world.Owner.Port}' 2>/dev/null && echo LEAK-database-port",
            "echo uid=$(id -u)", "true")));
        var (build, log) = await BuildAsync("main", attack);
        Assert.True(build.Status == "success", string.Join("\n", log));
        Assert.DoesNotContain(log, l => l.Contains("LEAK") || l.Contains("tenant-a-secret"));
        Assert.Contains(log, l => l.StartsWith("system: Sandbox: uid 9"));
        // The kept workspace stays its build's uid's (git run there by root refuses it rather than obey its config) in
        // the runner's own 0700 folder.
        var owner = await OdooOps.Database.ProcessRunner.RunAsync("stat", ["-c", "%u", kept, Path.GetDirectoryName(kept)!], null, TestContext.Current.CancellationToken);
        var owners = owner.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEqual("0", owners[0]);
        Assert.Equal("0", owners[1]);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(kept)!));
        var status = await OdooOps.Database.ProcessRunner.RunAsync("git", ["-C", kept, "status"], null, TestContext.Current.CancellationToken);
        Assert.Contains("dubious ownership", status.Output + status.Describe());
    }

    [Fact]
    public async Task Two_projects_running_at_once_run_as_different_uids()
    {
        var other = await Accounts.CreateProjectAsync(_world.Owner, _world.OrgId, "other");
        await using (var conn = await Accounts.OpenAsync(_world.Owner))
            await conn.ExecuteAsync("update ops.projects set repo_url = @Dir where id = @other", new { _world.Repo.Dir, other });
        var host = ProcessProbe.ExternalAddress();
        using var gate = new TcpListener(host, 0);
        gate.Start();
        var port = ((IPEndPoint)gate.LocalEndpoint).Port;
        var commit = await _world.Repo.CommitFilesAsync("waits", Pipeline(
            $"echo uid=$(id -u); exec 3<>/dev/tcp/{host}/{port}; head -c 1 <&3"));
        var a = await QueueAsync(_world.ProjectId, "main", commit);
        var b = await QueueAsync(other, "main", commit);
        string? uidA = null, uidB = null;
        var deadline = DateTime.UtcNow + Patience;
        while ((uidA = Uid(await _world.LogAsync(a))) is null | (uidB = Uid(await _world.LogAsync(b))) is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "both builds did not start");
            await Task.Delay(100);
        }
        Assert.Equal("running", (await _world.BuildAsync(a)).Status);
        Assert.Equal("running", (await _world.BuildAsync(b)).Status);
        Assert.NotEqual(uidA, uidB);
        // Each step waits for a byte from the test: both were running at the moment their uids were compared.
        for (var i = 0; i < 2; i++)
        {
            using var step = await gate.AcceptTcpClientAsync(TestContext.Current.CancellationToken);
            await step.GetStream().WriteAsync(new byte[] { 1 }, TestContext.Current.CancellationToken);
        }
        Assert.Equal("success", (await _world.WaitForAsync(a, Patience)).Status);
        Assert.Equal("success", (await _world.WaitForAsync(b, Patience)).Status);

        static string? Uid(List<string> log) => log.FirstOrDefault(l => l.StartsWith("stdout: uid="));
    }

    [Fact]
    public async Task A_memory_hog_and_a_fork_bomb_fail_their_builds_with_the_reason_and_the_runner_carries_on()
    {
        var hog = await _world.Repo.CommitFilesAsync("hog", Pipeline("python3 -c \"b = b'x' * (512 << 20)\""));
        var (hogBuild, hogLog) = await BuildAsync("main", hog);
        Assert.Equal("failed", hogBuild.Status);
        Assert.Equal("Step \"step1\" failed: killed for memory: the build's limit of 96 MiB was reached.", hogBuild.ResultDetail);

        var bomb = await _world.Repo.CommitFilesAsync("bomb", Pipeline("for i in $(seq 1 1000); do sleep 1000 & done"));
        var (bombBuild, bombLog) = await BuildAsync("main", bomb);
        Assert.Equal("failed", bombBuild.Status);
        Assert.Equal("Step \"step1\" failed: the build's limit of 64 processes was reached.", bombBuild.ResultDetail);

        var fine = await _world.Repo.CommitFilesAsync("fine", Pipeline("echo fine"));
        var (fineBuild, fineLog) = await BuildAsync("main", fine);
        Assert.True(fineBuild.Status == "success", string.Join("\n", fineLog));
    }

    [Fact]
    public async Task A_project_with_its_network_cut_fetches_but_its_steps_reach_nothing()
    {
        using var outside = new TcpListener(ProcessProbe.ExternalAddress(), 0);
        outside.Start();
        var target = (IPEndPoint)outside.LocalEndpoint;
        await using (var conn = await Accounts.OpenAsync(_world.Owner))
            await conn.ExecuteAsync("update ops.projects set build_network = false where id = @ProjectId", new { _world.ProjectId });
        var commit = await _world.Repo.CommitFilesAsync("offline", Pipeline(
            $"timeout 5 bash -c 'exec 3<>/dev/tcp/{target.Address}/{target.Port}' 2>/dev/null && echo reached || echo refused"));
        var (build, log) = await BuildAsync("main", commit);
        Assert.True(build.Status == "success", string.Join("\n", log));
        Assert.Contains(log, l => l.StartsWith("system: Sandbox: uid ") && l.EndsWith("; no network for the steps"));
        Assert.Contains("stdout: refused", log);
    }

    [Fact]
    public async Task A_commit_that_is_not_on_the_branch_is_not_built_as_that_branch()
    {
        var (build, log) = await BuildAsync("main", _world.Repo.FeatureCommit);
        Assert.Equal("failed", build.Status);
        Assert.StartsWith($"Commit {_world.Repo.FeatureCommit} is not on branch main", build.ResultDetail);
        Assert.DoesNotContain(log, l => l.StartsWith("system: Step "));
    }

    [Fact]
    public async Task A_runner_without_bubblewrap_takes_no_build_and_says_what_to_install()
    {
        var options = new RunnerOptions("nobwrap", 1, [], Path.Combine(_world.WorkDir, "nobwrap"))
        {
            Sandbox = new SandboxSettings { BwrapProgram = "/nonexistent/bwrap" },
        };
        var refusal = await SandboxProbe.RunnerMayStartAsync(options, NullLogger.Instance, TestContext.Current.CancellationToken);
        Assert.StartsWith("The build sandbox cannot start: /nonexistent/bwrap (bubblewrap) was not found; install bubblewrap and slirp4netns", refusal);
        Assert.Contains("OPS_RUNNER_UNSANDBOXED=1", refusal);
        Assert.Null(await SandboxProbe.RunnerMayStartAsync(options with { Sandbox = new SandboxSettings { Enabled = false } },
            NullLogger.Instance, TestContext.Current.CancellationToken));
    }
}
