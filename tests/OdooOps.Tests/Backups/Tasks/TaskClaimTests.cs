using OdooOps.Tests.Infrastructure;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Tests.Backups.Tasks;

/// <summary>
/// Tasks leased in the instance sync's answer (ops.claim_runner_tasks): only to the branch's host or the runner a task is
/// placed on, never to another organisation's runner nor to one that hosts no instances; each filled with what the
/// runner needs; a task waits for its `after` task and fails with it; at most two run per runner; a branch's backups
/// and restores one at a time.
/// </summary>
public sealed class TaskClaimTests(PostgresCluster cluster) : IAsyncLifetime
{
    TaskWorld _w = null!;

    public async ValueTask InitializeAsync() => _w = await TaskWorld.StartAsync(cluster);

    public async ValueTask DisposeAsync() => await _w.DisposeAsync();

    [Fact]
    public async Task A_task_goes_only_to_the_branch_host_of_the_project_org_that_hosts_instances()
    {
        var host = await _w.RunnerAsync("host");
        var neighbour = await _w.RunnerAsync("neighbour");
        var otherOrg = await Accounts.CreateOrgAsync(_w.World.Owner, "other-org");
        var stranger = await _w.RunnerAsync("stranger", otherOrg);
        var buildsOnly = await _w.RunnerAsync("builds-only", buildsOnly: true);

        // Placed nowhere: the branch's host takes it (its pin), no one else.
        await _w.PinAsync("main", host);
        var backup = await _w.BackupAsync();
        var task = await _w.TaskAsync("backup", backup);
        Assert.Empty(await _w.SyncAsync(neighbour));
        Assert.Empty(await _w.SyncAsync(stranger));
        // A branch pinned to another organisation's runner or to a builds-only one (never made so by OdooOps, but the
        // claim does not trust it), or a task placed on one, still goes nowhere.
        await _w.PinAsync("main", stranger);
        Assert.Empty(await _w.SyncAsync(stranger));
        await _w.ExecAsync("update ops.runner_tasks set runner_id = @Id where id = @task", new { stranger.Id, task });
        Assert.Empty(await _w.SyncAsync(stranger));
        await _w.ExecAsync("update ops.runner_tasks set runner_id = @Id where id = @task", new { buildsOnly.Id, task });
        Assert.Empty(await _w.SyncAsync(buildsOnly));
        Assert.Equal("queued", (await _w.TaskRowAsync(task)).Status);

        // Placed on the host: the host takes it.
        await _w.ExecAsync("update ops.runner_tasks set runner_id = @Id where id = @task", new { host.Id, task });
        var leased = Assert.Single(await _w.SyncAsync(host));
        Assert.Equal((task, "backup", backup, 1), (leased.TaskId, leased.Kind, leased.BackupId, leased.Attempt));
        Assert.Empty(await _w.SyncAsync(host)); // running now: not leased twice
    }

    [Fact]
    public async Task Without_a_pin_the_runner_of_the_branch_current_instance_is_its_host()
    {
        var host = await _w.RunnerAsync("instance-host");
        var other = await _w.RunnerAsync("not-the-host");
        var instance = await _w.InstanceAsync("feature-x", host, "app-feature-x");
        var task = await _w.TaskAsync("backup", await _w.BackupAsync("feature-x"), "feature-x");

        Assert.Empty(await _w.SyncAsync(other));
        var leased = Assert.Single(await _w.SyncAsync(host));
        Assert.Equal((task, instance, "app-feature-x"), (leased.TaskId, leased.InstanceId, leased.DatabaseName));
    }

    [Fact]
    public async Task A_leased_task_carries_what_the_runner_needs_and_marks_its_backup_running()
    {
        var host = await _w.RunnerAsync("filled");
        await _w.PinAsync("main", host);
        await _w.PinAsync("staging", host);
        var instance = await _w.InstanceAsync("main", host, "app-main");
        var backup = await _w.BackupAsync();
        var task = await _w.TaskAsync("backup", backup);
        await _w.ExecAsync("""
            insert into ops.runner_task_logs (task_id, project_id, seq, line) select id, project_id, s, 'an earlier attempt'
              from ops.runner_tasks, generate_series(0, 4) s where id = @task
            """, new { task });

        var leased = Assert.Single(await _w.SyncAsync(host));
        Assert.Equal(_w.ProjectId, leased.ProjectId);
        Assert.Equal(("app", "main", "production", "19.0"), (leased.ProjectSlug, leased.Branch, leased.Stage, leased.OdooVersion));
        Assert.Equal((instance, "app-main", 5L, false), (leased.InstanceId, leased.DatabaseName, leased.LogSeqStart, leased.Neutralize));
        Assert.Equal(await _w.BranchAsync("main"), leased.BranchId);
        Assert.Contains("main.app.", leased.BaseUrl);
        Assert.Equal(30, leased.LeaseTtlSeconds);
        var row = await _w.BackupRowAsync(backup);
        Assert.Equal(("running", host.Id, "app-main"), (row.Status, row.RunnerId, row.DatabaseName));
        Assert.NotNull(row.StartedAt);

        // A restore into staging is always neutralised; the staging branch has no instance here yet.
        var restore = await _w.TaskAsync("restore", await _w.BackupAsync(status: "succeeded", verification: "verified"), "staging");
        var r = Assert.Single(await _w.SyncAsync(host));
        Assert.Equal((restore, true, (Guid?)null, (string?)null), (r.TaskId, r.Neutralize, r.InstanceId, r.DatabaseName));
    }

    [Fact]
    public async Task A_restore_waits_for_its_pre_restore_backup_and_fails_when_that_failed()
    {
        var host = await _w.RunnerAsync("ordered");
        await _w.PinAsync("main", host);
        var source = await _w.BackupAsync(status: "succeeded", verification: "verified");

        // The pre-restore backup fails: its restore never starts.
        var pre = await _w.TaskAsync("backup", await _w.BackupAsync(kind: "pre-restore"));
        var restore = await _w.TaskAsync("restore", source, options: $$"""{"after": "{{pre}}"}""");
        var first = Assert.Single(await _w.SyncAsync(host));
        Assert.Equal(pre, first.TaskId);
        Assert.Equal(System.Net.HttpStatusCode.NoContent, await _w.DoneAsync(host, first, "failed", "pg_dump: disk full"));
        Assert.Empty(await _w.SyncAsync(host));
        var failed = await _w.TaskRowAsync(restore);
        Assert.Equal(("failed", "the pre-restore backup failed: pg_dump: disk full"), (failed.Status, failed.Detail));
        Assert.Contains(await _w.TaskLogAsync(restore), l => l.Contains("Not started: the pre-restore backup failed", StringComparison.Ordinal));

        // It succeeds: the restore runs after it, not beside it.
        var preBackup = await _w.BackupAsync(kind: "pre-restore");
        pre = await _w.TaskAsync("backup", preBackup);
        restore = await _w.TaskAsync("restore", source, options: $$"""{"after": "{{pre}}"}""");
        first = Assert.Single(await _w.SyncAsync(host));
        Assert.Equal(pre, first.TaskId);
        Assert.Empty(await _w.SyncAsync(host));
        await _w.StoreArtifactAsync(preBackup, 10, new string('b', 64));
        Assert.Equal(System.Net.HttpStatusCode.NoContent, await _w.BackupDoneAsync(host, preBackup, first.LeaseId, "succeeded", TaskWorld.Facts(10, new string('b', 64))));
        Assert.Equal(System.Net.HttpStatusCode.NoContent, await _w.DoneAsync(host, first, "succeeded"));
        // Its verification is queued on the same host too; both may run now (a verify touches no branch).
        var next = await _w.SyncAsync(host);
        Assert.Contains(next, t => t.TaskId == restore);
        Assert.Contains(next, t => t.Kind == "verify" && t.BackupId == preBackup);
    }

    [Fact]
    public async Task At_most_two_tasks_run_per_runner_and_one_backup_or_restore_per_branch()
    {
        var host = await _w.RunnerAsync("busy");
        await _w.PinAsync("main", host);
        var verifies = new List<Guid>();
        for (var i = 0; i < 3; i++)
            verifies.Add(await _w.TaskAsync("verify", await _w.BackupAsync(status: "succeeded"), runner: host));

        var first = await _w.SyncAsync(host);
        Assert.Equal(verifies[..2], first.Select(t => t.TaskId));
        Assert.Empty(await _w.SyncAsync(host));
        Assert.Equal(System.Net.HttpStatusCode.NoContent,
            await _w.DoneAsync(host, first[0], "succeeded", verification: new Verification(true, null, [new VerificationCheck("restore", true, "exit 0")])));
        var third = Assert.Single(await _w.SyncAsync(host));
        Assert.Equal(verifies[2], third.TaskId);

        // Two backups of one branch: the second waits for the first, with both slots free.
        Assert.Equal(System.Net.HttpStatusCode.NoContent, await _w.DoneAsync(host, first[1], "failed", "interrupted"));
        Assert.Equal(System.Net.HttpStatusCode.NoContent, await _w.DoneAsync(host, third, "failed", "interrupted"));
        var one = await _w.TaskAsync("backup", await _w.BackupAsync());
        var two = await _w.TaskAsync("backup", await _w.BackupAsync());
        Assert.Equal(one, Assert.Single(await _w.SyncAsync(host)).TaskId);
        Assert.Equal("queued", (await _w.TaskRowAsync(two)).Status);
    }

    [Fact]
    public async Task A_verify_or_restore_of_a_backup_that_is_not_a_good_one_fails_instead_of_starting()
    {
        var host = await _w.RunnerAsync("careful");
        await _w.PinAsync("main", host);
        var failedBackup = await _w.BackupAsync(status: "failed");
        var deleted = await _w.BackupAsync(status: "succeeded");
        await _w.ExecAsync("update ops.backups set deleted_at = now() where id = @deleted", new { deleted });
        var verify = await _w.TaskAsync("verify", failedBackup);
        var restore = await _w.TaskAsync("restore", deleted);

        Assert.Empty(await _w.SyncAsync(host));
        Assert.Equal(("failed", $"backup {failedBackup} cannot be verified: it is failed"),
            ((await _w.TaskRowAsync(verify)).Status, (await _w.TaskRowAsync(verify)).Detail));
        Assert.Equal(("failed", $"backup {deleted} cannot be restored: it is deleted"),
            ((await _w.TaskRowAsync(restore)).Status, (await _w.TaskRowAsync(restore)).Detail));
    }
}
