using System.Net;
using OdooOps.Runners.Dispatch;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Backups.Tasks;

/// <summary>
/// ops.rescue_task_leases, run by the `runner_rescue` job: a task whose runner stopped answering is queued again (its
/// backup or verification pending again) until its last attempt, then fails with "the runner stopped answering
/// (attempt N of M)" and so does its backup or verification; a pending cancel makes it cancelled; a live lease is left
/// alone. No wall clock: leases are expired by hand and the scheduler never rescues on its own here.
/// </summary>
public sealed class TaskRescueTests(PostgresCluster cluster) : IAsyncLifetime
{
    TaskWorld _w = null!;

    public async ValueTask InitializeAsync() => _w = await TaskWorld.StartAsync(cluster);

    public async ValueTask DisposeAsync() => await _w.DisposeAsync();

    [Fact]
    public async Task A_lost_backup_task_is_queued_again_then_fails_after_its_last_attempt()
    {
        var host = await _w.RunnerAsync("dies-every-time");
        var backup = await _w.BackupAsync();
        var task = await _w.TaskAsync("backup", backup, runner: host);

        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var leased = Assert.Single(await _w.SyncAsync(host));
            Assert.Equal((task, attempt), (leased.TaskId, leased.Attempt));
            Assert.Equal("running", (await _w.BackupRowAsync(backup)).Status);
            Assert.Equal((0, 0, 0), await _w.RescueAsync()); // its lease still runs
            await _w.ExpireAsync(task);
            Assert.Equal(attempt < 3 ? (1, 0, 0) : (0, 1, 0), await _w.RescueAsync());
            if (attempt < 3) Assert.Equal(("queued", "pending"), ((await _w.TaskRowAsync(task)).Status, (await _w.BackupRowAsync(backup)).Status));
        }

        var row = await _w.TaskRowAsync(task);
        Assert.Equal(("failed", "the runner stopped answering (attempt 3 of 3)"), (row.Status, row.Detail));
        Assert.Equal(("failed", "the runner stopped answering (attempt 3 of 3)"),
            ((await _w.BackupRowAsync(backup)).Status, (await _w.BackupRowAsync(backup)).Reason));
        var log = await _w.TaskLogAsync(task);
        Assert.Contains(log, l => l.Contains("Attempt 2 lost its runner (no heartbeat); queued again as attempt 3 of 3.", StringComparison.Ordinal));
        Assert.Contains(log, l => l.EndsWith("Failed: the runner stopped answering (attempt 3 of 3).", StringComparison.Ordinal));
        Assert.Empty(await _w.SyncAsync(host));
    }

    [Fact]
    public async Task A_lost_verification_is_pending_again_then_failed_and_a_restore_waiting_on_a_lost_backup_fails_too()
    {
        var host = await _w.RunnerAsync("verifier");
        await _w.PinAsync("main", host);
        var backup = await _w.BackupAsync(status: "succeeded", runner: host);
        var verify = await _w.TaskAsync("verify", backup);
        await _w.ExecAsync("update ops.runner_tasks set max_attempts = 1 where id = @verify", new { verify });
        var pre = await _w.TaskAsync("backup", await _w.BackupAsync(kind: "pre-restore"));
        await _w.ExecAsync("update ops.runner_tasks set max_attempts = 1 where id = @pre", new { pre });
        var restore = await _w.TaskAsync("restore", backup, options: $$"""{"after": "{{pre}}"}""");

        Assert.Equal(2, (await _w.SyncAsync(host)).Count); // the verify and the pre-restore backup
        Assert.Equal("running", (await _w.BackupRowAsync(backup)).Verification);
        await _w.ExpireAsync(verify);
        await _w.ExpireAsync(pre);

        Assert.Equal((0, 3, 0), await _w.RescueAsync()); // both lost at their only attempt, and the restore behind one
        Assert.Equal(("failed", "the runner stopped answering (attempt 1 of 1)"),
            ((await _w.BackupRowAsync(backup)).Verification, (await _w.BackupRowAsync(backup)).VerificationReason));
        Assert.Equal(("failed", "the pre-restore backup failed: the runner stopped answering (attempt 1 of 1)"),
            ((await _w.TaskRowAsync(restore)).Status, (await _w.TaskRowAsync(restore)).Detail));
    }

    [Fact]
    public async Task A_lost_task_with_a_pending_cancel_is_cancelled_by_the_runner_rescue_job()
    {
        var host = await _w.RunnerAsync("cancel-then-lost");
        var backup = await _w.BackupAsync();
        var task = await _w.TaskAsync("backup", backup, runner: host);
        var leased = Assert.Single(await _w.SyncAsync(host));
        await _w.ScalarAsync<string>("select status from ops.cancel_runner_task(@task)", new { task });
        await _w.ExpireAsync(task);

        // The scheduled job itself (the scheduler's cron is turned off here), so its wiring is proven too.
        var summary = await LeaseRescueJob.Job.Run(_w.World.Services, CancellationToken.None);
        Assert.Contains("tasks: 0 re-queued, 0 failed, 1 cancelled", summary);
        Assert.Equal("cancelled", (await _w.TaskRowAsync(task)).Status);
        Assert.Equal("failed", (await _w.BackupRowAsync(backup)).Status);
        Assert.Equal(HttpStatusCode.Conflict, await _w.DoneAsync(host, leased, "succeeded"));
    }
}
