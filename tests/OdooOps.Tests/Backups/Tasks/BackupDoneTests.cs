using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OdooOps.Runners.Agent;
using OdooOps.Tests.Infrastructure;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Tests.Backups.Tasks;

/// <summary>
/// backups/{id}/done and what follows: facts that do not match the file the server stored fail the backup (422); a good
/// backup is succeeded with its facts and its verification queued on its runner; the verdict recorded (verified, or
/// failed with the reason); a backup task ends as its backup did; a production build's pre-deploy backup
/// (jobs/{id}/backups), refused to other stages and to another runner.
/// </summary>
public sealed class BackupDoneTests(PostgresCluster cluster) : IAsyncLifetime
{
    TaskWorld _w = null!;
    static readonly string Sha = new('c', 64);

    public async ValueTask InitializeAsync() => _w = await TaskWorld.StartAsync(cluster);

    public async ValueTask DisposeAsync() => await _w.DisposeAsync();

    async Task<(TaskWorld.Runner Host, RunnerTask Task, Guid Backup)> LeasedBackupAsync(string name)
    {
        var host = await _w.RunnerAsync(name);
        var backup = await _w.BackupAsync();
        await _w.TaskAsync("backup", backup, runner: host);
        return (host, Assert.Single(await _w.SyncAsync(host)), backup);
    }

    [Fact]
    public async Task Facts_that_do_not_match_the_stored_file_fail_the_backup()
    {
        // Nothing stored at all.
        var (host, task, backup) = await LeasedBackupAsync("no-upload");
        using (var response = await _w.PostAsync(host, BackupDone(backup), new BackupDoneRequest(task.LeaseId, "succeeded", null) { Facts = TaskWorld.Facts(10, Sha) }))
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
            Assert.Contains("the stored file does not match", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        }
        var row = await _w.BackupRowAsync(backup);
        Assert.Equal("failed", row.Status);
        Assert.StartsWith("the stored file does not match what the runner reported: nothing was stored", row.Reason);
        Assert.Equal(HttpStatusCode.NoContent, await _w.DoneAsync(host, task, "failed", "the server refused the backup"));

        // Stored, but another file than the runner describes (a size or a hash that differs): failed, never verified.
        (host, task, backup) = await LeasedBackupAsync("corrupted-upload");
        await _w.StoreArtifactAsync(backup, 10, Sha);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, await _w.BackupDoneAsync(host, backup, task.LeaseId, "succeeded", TaskWorld.Facts(10, new string('d', 64))));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, await _w.BackupDoneAsync(host, backup, task.LeaseId, "succeeded", TaskWorld.Facts(10, new string('d', 64))));
        row = await _w.BackupRowAsync(backup);
        Assert.Equal("failed", row.Status);
        Assert.Contains($"stored 10 bytes, sha256 {Sha}; reported 10 bytes, sha256 {new string('d', 64)}", row.Reason);
        Assert.Equal(0, await _w.ScalarAsync<int>("select count(*) from ops.runner_tasks where backup_id = @backup and kind = 'verify'", new { backup }));

        // The task that reports success anyway ends failed with the backup's reason.
        Assert.Equal(HttpStatusCode.NoContent, await _w.DoneAsync(host, task, "succeeded"));
        var ended = await _w.TaskRowAsync(task.TaskId);
        Assert.Equal("failed", ended.Status);
        Assert.StartsWith("the stored file does not match", ended.Detail);
    }

    [Fact]
    public async Task A_good_backup_succeeds_with_its_facts_and_is_verified_on_its_runner()
    {
        var (host, task, backup) = await LeasedBackupAsync("good");
        await _w.StoreArtifactAsync(backup, 10, Sha);
        Assert.Equal(HttpStatusCode.NoContent, await _w.BackupDoneAsync(host, backup, task.LeaseId, "succeeded", TaskWorld.Facts(10, Sha)));
        Assert.Equal(HttpStatusCode.NoContent, await _w.BackupDoneAsync(host, backup, task.LeaseId, "succeeded", TaskWorld.Facts(10, Sha))); // answer lost, sent again
        Assert.Equal(HttpStatusCode.NoContent, await _w.DoneAsync(host, task, "succeeded"));
        var row = await _w.BackupRowAsync(backup);
        Assert.Equal(("succeeded", "pending", 120), (row.Status, row.Verification, row.TableCount));
        Assert.Contains("\"sale\"", row.Modules);
        Assert.Equal("succeeded", (await _w.TaskRowAsync(task.TaskId)).Status);

        // Its verification runs on the runner that took it (no pin, no instance: nobody else would find it).
        var other = await _w.RunnerAsync("other");
        Assert.Empty(await _w.SyncAsync(other));
        var verify = Assert.Single(await _w.SyncAsync(host));
        Assert.Equal(("verify", backup), (verify.Kind, verify.BackupId));
        Assert.Equal("running", (await _w.BackupRowAsync(backup)).Verification);
        Assert.Equal(HttpStatusCode.NoContent, await _w.DoneAsync(host, verify, "succeeded",
            verification: new Verification(true, null, [new VerificationCheck("restore", true, "pg_restore exited 0"), new VerificationCheck("tables", true, "120")])));
        row = await _w.BackupRowAsync(backup);
        Assert.Equal(("verified", (string?)null), (row.Verification, row.VerificationReason));
        Assert.NotNull(row.VerifiedAt);
        Assert.Contains("pg_restore exited 0", (await _w.TaskRowAsync(verify.TaskId)).Result);
    }

    [Fact]
    public async Task A_failed_verification_is_recorded_with_its_reason_and_a_failed_check_outweighs_passed()
    {
        var host = await _w.RunnerAsync("verifier");
        var said = await _w.BackupAsync(status: "succeeded", runner: host);
        var checks = await _w.BackupAsync(status: "succeeded", runner: host);
        await _w.TaskAsync("verify", said, runner: host);
        await _w.TaskAsync("verify", checks, runner: host);
        var leased = await _w.SyncAsync(host);
        Assert.Equal(2, leased.Count);

        Assert.Equal(HttpStatusCode.NoContent, await _w.DoneAsync(host, leased.Single(t => t.BackupId == said), "succeeded",
            verification: new Verification(false, "filestore checksum differs from the manifest", [new VerificationCheck("filestore", false, "sha256 differs")])));
        // A runner that says passed while a check failed is not believed.
        Assert.Equal(HttpStatusCode.NoContent, await _w.DoneAsync(host, leased.Single(t => t.BackupId == checks), "succeeded",
            verification: new Verification(true, null, [new VerificationCheck("restore", true, "ok"), new VerificationCheck("tables", false, "expected 120, found 0")])));

        Assert.Equal(("failed", "filestore checksum differs from the manifest"),
            ((await _w.BackupRowAsync(said)).Verification, (await _w.BackupRowAsync(said)).VerificationReason));
        Assert.Equal(("failed", "tables: expected 120, found 0"),
            ((await _w.BackupRowAsync(checks)).Verification, (await _w.BackupRowAsync(checks)).VerificationReason));

        // A succeeded verify task without its verdict is a bad request, and changes nothing.
        var third = await _w.BackupAsync(status: "succeeded", runner: host);
        await _w.TaskAsync("verify", third, runner: host);
        var t = Assert.Single(await _w.SyncAsync(host));
        Assert.Equal(HttpStatusCode.BadRequest, await _w.DoneAsync(host, t, "succeeded"));
        Assert.Equal("running", (await _w.TaskRowAsync(t.TaskId)).Status);
        // A verify task that could not end fails the verification with what stopped it.
        Assert.Equal(HttpStatusCode.NoContent, await _w.DoneAsync(host, t, "failed", "could not download the backup"));
        Assert.Equal(("failed", "the verification did not complete: could not download the backup"),
            ((await _w.BackupRowAsync(third)).Verification, (await _w.BackupRowAsync(third)).VerificationReason));
    }

    [Fact]
    public async Task A_production_build_takes_its_pre_deploy_backup_under_its_own_lease()
    {
        var builder = await _w.RunnerAsync("builder");
        var other = await _w.RunnerAsync("other-builder");
        await _w.World.QueueBuildAsync("main");
        using var client = new DispatchClient(_w.World.Url, builder.Token);
        var job = Assert.Single(await client.NextAsync(1, 0, default));

        // Another runner, even with the lease id, is refused; so is a kind that is not pre-deploy.
        Assert.Equal(HttpStatusCode.Conflict, await _w.StatusAsync(other, JobBackups(job.BuildId), new JobBackupRequest(job.LeaseId, "pre-deploy")));
        Assert.Equal(HttpStatusCode.BadRequest, await _w.StatusAsync(builder, JobBackups(job.BuildId), new JobBackupRequest(job.LeaseId, "daily")));

        async Task<Guid> AskAsync()
        {
            using var response = await _w.PostAsync(builder, JobBackups(job.BuildId), new JobBackupRequest(job.LeaseId, "pre-deploy"));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<JobBackupCreated>(Json))!.BackupId;
        }
        var backup = await AskAsync();
        Assert.Equal(backup, await AskAsync()); // an answer lost: the same backup
        var row = await _w.BackupRowAsync(backup);
        Assert.Equal(("running", builder.Id, job.BuildId), (row.Status, row.RunnerId, row.BuildId));
        Assert.Equal("pre-deploy", await _w.ScalarAsync<string>("select kind from ops.backups where id = @backup", new { backup }));

        // The build's lease records it; another runner's does not.
        await _w.StoreArtifactAsync(backup, 10, Sha);
        Assert.Equal(HttpStatusCode.Conflict, await _w.BackupDoneAsync(other, backup, job.LeaseId, "succeeded", TaskWorld.Facts(10, Sha)));
        Assert.Equal(HttpStatusCode.NoContent, await _w.BackupDoneAsync(builder, backup, job.LeaseId, "succeeded", TaskWorld.Facts(10, Sha)));
        Assert.Equal("succeeded", (await _w.BackupRowAsync(backup)).Status);
        Assert.Equal(1, await _w.ScalarAsync<int>("select count(*) from ops.runner_tasks where backup_id = @backup and kind = 'verify' and runner_id = @Id",
            new { backup, builder.Id }));

        // A backup its build never recorded (the build ended first) fails at the rescuer's next round.
        var abandoned = await AskAsync();
        Assert.NotEqual(backup, abandoned);
        await _w.RescueAsync();
        Assert.Equal("running", (await _w.BackupRowAsync(abandoned)).Status); // the build still runs
        await client.DoneAsync(job, "failed", "update failed", default);
        await _w.RescueAsync();
        Assert.Equal(("failed", "the build that took it ended without recording it"),
            ((await _w.BackupRowAsync(abandoned)).Status, (await _w.BackupRowAsync(abandoned)).Reason));
        Assert.Equal("succeeded", (await _w.BackupRowAsync(backup)).Status);
    }

    [Fact]
    public async Task A_staging_or_development_build_takes_no_pre_deploy_backup()
    {
        var builder = await _w.RunnerAsync("stage-builder");
        using var client = new DispatchClient(_w.World.Url, builder.Token);
        foreach (var branch in new[] { "staging", "feature-x" })
        {
            await _w.World.QueueBuildAsync(branch);
            var job = Assert.Single(await client.NextAsync(1, 0, default));
            using var response = await _w.PostAsync(builder, JobBackups(job.BuildId), new JobBackupRequest(job.LeaseId, "pre-deploy"));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("Only a production build takes a pre-deploy backup", await response.Content.ReadAsStringAsync());
            await client.DoneAsync(job, "success", null, default);
        }
        Assert.Equal(0, await _w.ScalarAsync<int>("select count(*) from ops.backups"));
    }
}
