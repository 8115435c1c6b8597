using System.Net;
using System.Text.Json;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Backups;

/// <summary>
/// POST /api/ops/backups/tasks/{id}/cancel, each rule reproduced as an attempt: whoever may start a task may cancel it
/// and nobody else (a viewer never; a tester or a developer not on production; a production restore only an admin); a
/// queued task is cancelled at once (200), a running one's runner is asked to stop (202, cancel_requested, asked again
/// unchanged); an ended task is 409; an unknown id and another tenant's task are 404; a read-scoped token is 403; every
/// refusal changes nothing and each cancel is one audit row.
/// </summary>
public sealed class BackupTaskCancelApiTests(BackupWorld world) : IClassFixture<BackupWorld>
{
    static async Task<JsonElement> JsonOf(HttpResponseMessage response) => JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    static string Cancel(Guid taskId) => $"/api/ops/backups/tasks/{taskId}/cancel";

    /// <summary>A task on a backup of <paramref name="backupBranch"/>, working on <paramref name="branch"/>, as the requests leave it.</summary>
    async Task<Guid> TaskAsync(string kind, Guid branch, Guid? backupBranch = null, string status = "queued")
    {
        var backup = await BackupRows.InsertAsync(world.Server.Owner, backupBranch ?? branch,
            kind == "backup" ? new(Status: "pending") : new(Verification: "verified")); // a backup task takes its backup
        return await world.ScalarAsync<Guid>("""
            insert into ops.runner_tasks (project_id, branch_id, kind, backup_id, runner_id, status, attempt, lease_id, lease_until, leased_runner_id,
                                          started_at, finished_at)
            select b.project_id, b.id, @kind, @backup, @runner, @status, case when @status = 'queued' then 0 else 1 end,
                   case when @status = 'running' then gen_random_uuid() end, case when @status = 'running' then now() + interval '1 hour' end,
                   case when @status = 'running' then @runner end, case when @status <> 'queued' then now() end,
                   case when @status in ('succeeded', 'failed', 'cancelled') then now() end
              from ops.branches b where b.id = @branch
            returning id
            """, new { kind, branch, backup, status, runner = world.A.RunnerId });
    }

    Task<string> StatusAsync(Guid task) => world.ScalarAsync<string>("select status || ':' || cancel_requested from ops.runner_tasks where id = @task", new { task });

    Task<long> AuditCountAsync(Guid task) =>
        world.ScalarAsync<long>("select count(*) from ops.audit_log where action = 'runner_task.cancel' and target_id = @id", new { id = task.ToString() });

    async Task RefusedAsync(HttpClient client, Guid task, HttpStatusCode status, string? detail = null)
    {
        var before = await BackupRows.FingerprintAsync(world.Server.Owner);
        var response = await client.PostAsync(Cancel(task), null);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        if (detail is not null) Assert.Contains(detail, text);
        Assert.Equal(before, await BackupRows.FingerprintAsync(world.Server.Owner));
        Assert.Equal(0L, await AuditCountAsync(task));
    }

    [Fact]
    public async Task Whoever_may_start_a_task_may_cancel_it_and_nobody_else()
    {
        // Off production: a tester restores into staging, and so may cancel it; a viewer may not.
        var staging = await TaskAsync("restore", world.A.StagingBranchId, world.A.ProductionBranchId);
        await RefusedAsync(world.Client(world.A, TenantRole.Viewer), staging, HttpStatusCode.Forbidden,
            "Cancelling a restore task of the staging branch staging needs the tester role or higher; you are viewer.");
        var ok = await world.Client(world.A, TenantRole.Tester).PostAsync(Cancel(staging), null);
        Assert.True(ok.StatusCode == HttpStatusCode.OK, await ok.Content.ReadAsStringAsync());
        var answer = await JsonOf(ok);
        Assert.Equal(("cancelled", "restore", "staging", false), (answer.GetProperty("task").GetProperty("status").GetString(),
            answer.GetProperty("task").GetProperty("kind").GetString(), answer.GetProperty("task").GetProperty("branch").GetString(),
            answer.GetProperty("task").GetProperty("can_cancel").GetBoolean()));
        Assert.Equal("cancelled:false", await StatusAsync(staging));
        Assert.Equal(1L, await AuditCountAsync(staging));

        // Production's backups and restores are admins': a tester and a developer (who deploys production) are refused.
        var backup = await TaskAsync("backup", world.A.ProductionBranchId);
        await RefusedAsync(world.Client(world.A, TenantRole.Tester), backup, HttpStatusCode.Forbidden,
            "Cancelling a backup task of the production branch main needs the admin role or higher; you are tester.");
        await RefusedAsync(world.Client(world.A, TenantRole.Developer), backup, HttpStatusCode.Forbidden, "you are developer");
        var restore = await TaskAsync("restore", world.A.ProductionBranchId);
        await RefusedAsync(world.Client(world.A, TenantRole.Developer), restore, HttpStatusCode.Forbidden,
            "Cancelling a restore task of the production branch main needs the admin role or higher; you are developer.");
        foreach (var task in new[] { backup, restore })
            Assert.Equal(HttpStatusCode.OK, (await world.Client(world.A, TenantRole.Admin).PostAsync(Cancel(task), null)).StatusCode);
        // The backup a cancelled backup task was to take fails as cancelled.
        Assert.Equal("failed", await world.ScalarAsync<string>("select k.status from ops.backups k join ops.runner_tasks t on t.backup_id = k.id where t.id = @backup",
            new { backup }));
    }

    [Fact]
    public async Task A_running_task_is_asked_to_stop_and_an_ended_one_is_409()
    {
        var running = await TaskAsync("verify", world.A.StagingBranchId, status: "running");
        var tester = world.Client(world.A, TenantRole.Tester);
        var asked = await tester.PostAsync(Cancel(running), null);
        Assert.True(asked.StatusCode == HttpStatusCode.Accepted, await asked.Content.ReadAsStringAsync());
        var task = (await JsonOf(asked)).GetProperty("task");
        Assert.Equal(("running", true), (task.GetProperty("status").GetString(), task.GetProperty("cancel_requested").GetBoolean()));
        // Asked again: the same answer, no second audit row.
        Assert.Equal(HttpStatusCode.Accepted, (await tester.PostAsync(Cancel(running), null)).StatusCode);
        Assert.Equal(("running:true", 1L), (await StatusAsync(running), await AuditCountAsync(running)));

        foreach (var status in new[] { "succeeded", "failed", "cancelled" })
        {
            var ended = await TaskAsync("verify", world.A.StagingBranchId, status: status);
            await RefusedAsync(tester, ended, HttpStatusCode.Conflict, $"is {status} already; there is nothing to cancel");
        }
    }

    [Fact]
    public async Task An_unknown_task_and_another_tenants_are_404_and_a_read_token_is_403()
    {
        await RefusedAsync(world.Client(world.A, TenantRole.Owner), Guid.NewGuid(), HttpStatusCode.NotFound);
        var task = await TaskAsync("restore", world.A.StagingBranchId);
        await RefusedAsync(world.Client(world.B, TenantRole.Owner), task, HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.NotFound, (await world.Client(world.B, TenantRole.Owner).GetAsync(
            $"/api/ops/backups/{await world.ScalarAsync<Guid>("select backup_id from ops.runner_tasks where id = @task", new { task })}")).StatusCode);

        var reader = new HttpClient { BaseAddress = new Uri(world.Server.Url) }
            .WithToken(await Accounts.CreateTokenAsync(world.Server.Owner, world.A.OwnerId, scope: "read"));
        await RefusedAsync(reader, task, HttpStatusCode.Forbidden);
        Assert.Equal("queued:false", await StatusAsync(task));
    }
}
