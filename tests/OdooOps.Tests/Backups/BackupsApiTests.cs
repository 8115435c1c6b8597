using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Backups;

/// <summary>
/// The backups API as people use it, each rule reproduced as an attack or a mistake: the 6th manual backup in 24 hours
/// is 429 with Retry-After and writes nothing; production's backups are admins' (a developer and a tester are refused);
/// a tester cannot restore into production but may into staging, which is neutralised; a production restore needs the
/// branch's name typed and takes a pre-restore backup first; a backup restores only within its project; every act is
/// one audit row; refusals change nothing.
/// </summary>
public sealed class BackupsApiTests(BackupWorld world) : IClassFixture<BackupWorld>
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    static StringContent Body(object body) => new(JsonSerializer.Serialize(body, Json), System.Text.Encoding.UTF8, "application/json");

    static async Task<JsonElement> JsonOf(HttpResponseMessage response) => JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    Task<string> FingerprintAsync() => BackupRows.FingerprintAsync(world.Server.Owner);

    Task<long> AuditCountAsync(string action, Guid target) =>
        world.ScalarAsync<long>("select count(*) from ops.audit_log where action = @action and target_id = @target", new { action, target = target.ToString() });

    async Task AssertRefusedAsync(HttpResponseMessage response, HttpStatusCode status, string before, string? detailContains = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        if (detailContains is not null) Assert.Contains(detailContains, text);
        Assert.Equal(before, await FingerprintAsync());
    }

    [Fact]
    public async Task The_sixth_manual_backup_in_24_hours_is_429_with_retry_after_and_changes_nothing()
    {
        var (branch, name) = await BackupRows.NewHostedBranchAsync(world.Server.Owner, world.A.ProjectId);
        // Five from yesterday no longer count: the window is the last 24 hours.
        for (var i = 0; i < 5; i++) await BackupRows.InsertAsync(world.Server.Owner, branch, new(Age: TimeSpan.FromHours(25)));
        var tester = world.Client(world.A, TenantRole.Tester);
        var path = $"/api/ops/projects/{world.A.ProjectId}/branches/{branch}/backups";
        var ids = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            var ok = await tester.PostAsync(path, null);
            Assert.True(ok.StatusCode == HttpStatusCode.Accepted, await ok.Content.ReadAsStringAsync());
            var backup = await JsonOf(ok);
            Assert.Equal(("manual", "pending", name), (backup.GetProperty("kind").GetString(), backup.GetProperty("status").GetString(), backup.GetProperty("branch").GetString()));
            ids.Add(backup.GetProperty("id").GetGuid());
        }
        Assert.Equal(5L, await world.ScalarAsync<long>(
            "select count(*) from ops.runner_tasks where backup_id = any (@ids) and kind = 'backup' and status = 'queued'", new { ids = ids.ToArray() }));

        var before = await FingerprintAsync();
        var sixth = await tester.PostAsync(path, null);
        await AssertRefusedAsync(sixth, HttpStatusCode.TooManyRequests, before, "already had 5 manual backups in the last 24 hours");
        var retryAfter = int.Parse(Assert.Single(sixth.Headers.GetValues("Retry-After")));
        Assert.InRange(retryAfter, 24 * 3600 - 600, 24 * 3600);

        // The oldest of the five turns 24 hours old: one more is allowed.
        await world.ExecuteAsync("update ops.backups set created_at = now() - interval '24 hours 1 minute' where id = @id", new { id = ids[0] });
        Assert.Equal(HttpStatusCode.Accepted, (await tester.PostAsync(path, null)).StatusCode);
        Assert.Equal(1L, await AuditCountAsync("backup.create", ids[4]));
    }

    [Fact]
    public async Task Backing_up_production_is_for_admins_and_a_branch_without_a_host_is_refused()
    {
        var path = $"/api/ops/projects/{world.A.ProjectId}/branches/{world.A.ProductionBranchId}/backups";
        // The class shares its world: another test's manual backups (the quota's) are a day old here, whatever the order.
        await world.ExecuteAsync("update ops.backups set created_at = now() - interval '25 hours' where branch_id = @ProductionBranchId and kind = 'manual'",
            new { world.A.ProductionBranchId });
        var before = await FingerprintAsync();
        await AssertRefusedAsync(await world.Client(world.A, TenantRole.Developer).PostAsync(path, null), HttpStatusCode.Forbidden, before,
            "Backing up the production branch main needs the admin role or higher; you are developer.");
        await AssertRefusedAsync(await world.Client(world.A, TenantRole.Tester).PostAsync(path, null), HttpStatusCode.Forbidden, before);
        await AssertRefusedAsync(await world.Client(world.A, TenantRole.Viewer).PostAsync(path, null), HttpStatusCode.Forbidden, before);

        var ok = await world.Client(world.A, TenantRole.Admin).PostAsync(path, null);
        Assert.Equal(HttpStatusCode.Accepted, ok.StatusCode);
        var id = (await JsonOf(ok)).GetProperty("id").GetGuid();
        Assert.Equal(world.A.RunnerId, await world.ScalarAsync<Guid>("select runner_id from ops.runner_tasks where backup_id = @id and kind = 'backup'", new { id }));
        Assert.Equal(1L, await AuditCountAsync("backup.create", id));

        // feature-x has no instance anywhere: nothing to back up.
        var before2 = await FingerprintAsync();
        await AssertRefusedAsync(await world.Client(world.A, TenantRole.Tester).PostAsync(
            $"/api/ops/projects/{world.A.ProjectId}/branches/{world.A.DevBranchId}/backups", null), HttpStatusCode.Conflict, before2, "no runner hosts feature-x");
    }

    [Fact]
    public async Task A_tester_cannot_restore_into_production_but_may_restore_it_into_staging_neutralised()
    {
        var backup = await BackupRows.InsertAsync(world.Server.Owner, world.A.ProductionBranchId, new(Verification: "verified"));
        var tester = world.Client(world.A, TenantRole.Tester);
        var before = await FingerprintAsync();
        await AssertRefusedAsync(await tester.PostAsync($"/api/ops/backups/{backup}/restore", Body(new { branch_id = world.A.ProductionBranchId, confirm = "main" })),
            HttpStatusCode.Forbidden, before, "Restoring into the production branch main needs the admin role or higher; you are tester.");
        await AssertRefusedAsync(await world.Client(world.A, TenantRole.Developer).PostAsync($"/api/ops/backups/{backup}/restore",
            Body(new { branch_id = world.A.ProductionBranchId, confirm = "main" })), HttpStatusCode.Forbidden, before);

        var ok = await tester.PostAsync($"/api/ops/backups/{backup}/restore", Body(new { branch_id = world.A.StagingBranchId }));
        Assert.True(ok.StatusCode == HttpStatusCode.Accepted, await ok.Content.ReadAsStringAsync());
        var answer = await JsonOf(ok);
        var task = answer.GetProperty("task");
        Assert.Equal(("restore", "queued", "staging", true), (task.GetProperty("kind").GetString(), task.GetProperty("status").GetString(),
            task.GetProperty("branch").GetString(), task.GetProperty("neutralize").GetBoolean()));
        Assert.Equal(JsonValueKind.Null, answer.GetProperty("pre_restore").ValueKind);
        var taskId = task.GetProperty("id").GetGuid();
        Assert.Equal("{\"neutralize\": true}", await world.ScalarAsync<string>("select options::text from ops.runner_tasks where id = @taskId", new { taskId }));
        Assert.Equal(1L, await AuditCountAsync("backup.restore", backup));

        // One restore into a branch at a time.
        var before2 = await FingerprintAsync();
        await AssertRefusedAsync(await tester.PostAsync($"/api/ops/backups/{backup}/restore", Body(new { branch_id = world.A.StagingBranchId })),
            HttpStatusCode.Conflict, before2, "A restore into staging is already queued or running");
        await world.ExecuteAsync("update ops.runner_tasks set status = 'succeeded', finished_at = now() where id = @taskId", new { taskId });
    }

    [Fact]
    public async Task A_production_restore_needs_the_branch_name_and_takes_a_pre_restore_backup_first()
    {
        var backup = await BackupRows.InsertAsync(world.Server.Owner, world.A.ProductionBranchId, new(Verification: "verified"));
        var admin = world.Client(world.A, TenantRole.Admin);
        var path = $"/api/ops/backups/{backup}/restore";
        var before = await FingerprintAsync();
        foreach (var confirm in new[] { null, "", "Main", "main ", "staging" })
        {
            var refused = await admin.PostAsync(path, Body(new { branch_id = world.A.ProductionBranchId, confirm }));
            await AssertRefusedAsync(refused, HttpStatusCode.BadRequest, before, "Type the branch name, main, to confirm");
            Assert.True((await JsonOf(refused)).GetProperty("errors").TryGetProperty("confirm", out _), "the answer names the field confirm");
        }
        await AssertRefusedAsync(await admin.PostAsync(path, Body(new { confirm = "main" })), HttpStatusCode.BadRequest, before, "branch_id");

        var ok = await admin.PostAsync(path, Body(new { branch_id = world.A.ProductionBranchId, confirm = "main" }));
        Assert.True(ok.StatusCode == HttpStatusCode.Accepted, await ok.Content.ReadAsStringAsync());
        var answer = await JsonOf(ok);
        var pre = answer.GetProperty("pre_restore");
        Assert.Equal(("pre-restore", "pending", "main"), (pre.GetProperty("kind").GetString(), pre.GetProperty("status").GetString(), pre.GetProperty("branch").GetString()));
        var preTask = await world.ScalarAsync<Guid>("select id from ops.runner_tasks where backup_id = @id and kind = 'backup'", new { id = pre.GetProperty("id").GetGuid() });
        var task = answer.GetProperty("task");
        Assert.Equal(preTask, task.GetProperty("after").GetGuid());
        Assert.False(task.GetProperty("neutralize").GetBoolean());
        Assert.Equal($"{{\"after\": \"{preTask}\"}}", await world.ScalarAsync<string>("select options::text from ops.runner_tasks where id = @id",
            new { id = task.GetProperty("id").GetGuid() }));
        Assert.Equal(1L, await AuditCountAsync("backup.restore", backup));
        await world.ExecuteAsync("update ops.runner_tasks set status = 'cancelled', finished_at = now() where id = @id", new { id = task.GetProperty("id").GetGuid() });
    }

    [Fact]
    public async Task Only_a_taken_kept_and_sound_backup_restores_and_only_within_its_project()
    {
        var admin = world.Client(world.A, TenantRole.Admin);
        var failed = await BackupRows.InsertAsync(world.Server.Owner, world.A.ProductionBranchId, new(Status: "failed", Reason: "disk full"));
        var corrupt = await BackupRows.InsertAsync(world.Server.Owner, world.A.ProductionBranchId, new(Verification: "failed"));
        var good = await BackupRows.InsertAsync(world.Server.Owner, world.A.ProductionBranchId, new(Verification: "verified"));
        var before = await FingerprintAsync();
        await AssertRefusedAsync(await admin.PostAsync($"/api/ops/backups/{failed}/restore", Body(new { branch_id = world.A.StagingBranchId })),
            HttpStatusCode.Conflict, before, "only a succeeded backup can be restored");
        await AssertRefusedAsync(await admin.PostAsync($"/api/ops/backups/{corrupt}/restore", Body(new { branch_id = world.A.StagingBranchId })),
            HttpStatusCode.Conflict, before, "failed verification");
        // B's staging branch: not in the backup's project (and not A's to know about).
        var cross = await admin.PostAsync($"/api/ops/backups/{good}/restore", Body(new { branch_id = world.B.StagingBranchId }));
        await AssertRefusedAsync(cross, HttpStatusCode.BadRequest, before, "a backup is restored into a branch of its own project only");
        Assert.True((await JsonOf(cross)).GetProperty("errors").TryGetProperty("branch_id", out _));
        // B's owner cannot reach A's backup at all.
        await AssertRefusedAsync(await world.Client(world.B, TenantRole.Owner).PostAsync($"/api/ops/backups/{good}/restore",
            Body(new { branch_id = world.B.StagingBranchId })), HttpStatusCode.NotFound, before);
        Assert.Equal(HttpStatusCode.NotFound, (await world.Client(world.B, TenantRole.Owner).GetAsync($"/api/ops/backups/{good}")).StatusCode);
    }

    [Fact]
    public async Task Verify_queues_one_task_download_gives_a_signed_link_and_each_is_audited()
    {
        var backup = await BackupRows.InsertAsync(world.Server.Owner, world.A.StagingBranchId);
        var tester = world.Client(world.A, TenantRole.Tester);
        var verify = await tester.PostAsync($"/api/ops/backups/{backup}/verify", null);
        Assert.True(verify.StatusCode == HttpStatusCode.Accepted, await verify.Content.ReadAsStringAsync());
        Assert.Equal("verify", (await JsonOf(verify)).GetProperty("task").GetProperty("kind").GetString());
        var before = await FingerprintAsync();
        await AssertRefusedAsync(await tester.PostAsync($"/api/ops/backups/{backup}/verify", null), HttpStatusCode.Conflict, before, "already queued or running");
        Assert.Equal(1L, await AuditCountAsync("backup.verify", backup));

        var download = await tester.PostAsync($"/api/ops/backups/{backup}/download", null);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        var link = await JsonOf(download);
        Assert.StartsWith($"{world.Server.Url}/api/ops/backups/{backup}/download?expires=", link.GetProperty("url").GetString());
        Assert.Matches(@"^erp-staging-\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d\.zip$", link.GetProperty("file_name").GetString());
        Assert.True(link.GetProperty("expires_at").GetDateTimeOffset() > DateTimeOffset.UtcNow);
        Assert.Equal(1L, await AuditCountAsync("backup.download", backup));

        // Production's backups are the customer's data: a tester may not take them out.
        var production = await BackupRows.InsertAsync(world.Server.Owner, world.A.ProductionBranchId);
        var before2 = await FingerprintAsync();
        await AssertRefusedAsync(await tester.PostAsync($"/api/ops/backups/{production}/download", null), HttpStatusCode.Forbidden, before2,
            "Downloading a backup of the production branch main needs the admin role");
        await AssertRefusedAsync(await world.Client(world.A, TenantRole.Developer).PostAsync($"/api/ops/backups/{production}/verify", null),
            HttpStatusCode.Forbidden, before2);
    }

    [Fact]
    public async Task An_import_is_stored_verified_next_and_audited_and_a_file_that_is_not_a_zip_is_refused_naming_file()
    {
        var (branch, _) = await BackupRows.NewHostedBranchAsync(world.Server.Owner, world.A.ProjectId);
        var tester = world.Client(world.A, TenantRole.Tester);
        var path = $"/api/ops/projects/{world.A.ProjectId}/branches/{branch}/backups/import";
        var zip = Storage.BackupZips.Odoos("select 1;");
        var content = new ByteArrayContent(zip);
        content.Headers.ContentType = new("application/zip");
        var ok = await tester.PostAsync(path, content);
        Assert.True(ok.StatusCode == HttpStatusCode.Accepted, await ok.Content.ReadAsStringAsync());
        var backup = await JsonOf(ok);
        var id = backup.GetProperty("id").GetGuid();
        Assert.Equal(("import", "succeeded", (long)zip.Length), (backup.GetProperty("kind").GetString(), backup.GetProperty("status").GetString(),
            backup.GetProperty("size_bytes").GetInt64()));
        Assert.Equal(zip, await File.ReadAllBytesAsync(Path.Combine(world.StorageFolder, OdooOps.Backups.Storage.BackupKeys.For(world.A.ProjectId, branch, id))));
        Assert.Equal(("17.0", 2), (backup.GetProperty("odoo_version").GetString(), backup.GetProperty("modules_count").GetInt32()));
        Assert.Equal(1L, await world.ScalarAsync<long>("select count(*) from ops.runner_tasks where backup_id = @id and kind = 'verify'", new { id }));
        Assert.Equal(1L, await AuditCountAsync("backup.import", id));

        var text = new StringContent("name,amount\nx,1\n");
        text.Headers.ContentType = new("application/zip");
        var refused = await tester.PostAsync(path, text);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("Not a backup zip", (await JsonOf(refused)).GetProperty("errors").GetProperty("file")[0].GetString());
        // Recorded, not silent: the import is failed with the reason, and nothing is verified.
        var failed = await world.ScalarAsync<string>(
            "select status || ': ' || reason from ops.backups where branch_id = @branch and kind = 'import' order by created_at desc limit 1", new { branch });
        Assert.Equal("failed: Not a backup zip: The file is not a zip.", failed);
    }

    [Fact]
    public async Task A_viewer_lists_backups_and_reads_one_with_its_tasks_and_logs_but_acts_on_none()
    {
        var backup = await BackupRows.InsertAsync(world.Server.Owner, world.A.ProductionBranchId, new(Verification: "failed", RequestedBy: world.A.AdminId));
        await world.ExecuteAsync("""
            update ops.backups set verification_reason = 'table count 12, manifest says 14' where id = @backup;
            with t as (insert into ops.runner_tasks (project_id, branch_id, kind, backup_id, runner_id, status, detail)
                       values (@ProjectId, @ProductionBranchId, 'verify', @backup, @RunnerId, 'failed', 'table count 12, manifest says 14') returning id)
            insert into ops.runner_task_logs (task_id, project_id, seq, line) select t.id, @ProjectId, s, 'line ' || s from t, generate_series(0, 2) s
            """, new { backup, world.A.ProjectId, world.A.ProductionBranchId, world.A.RunnerId });
        var viewer = world.Client(world.A, TenantRole.Viewer);

        var list = await JsonOf(await viewer.GetAsync($"/api/ops/projects/{world.A.ProjectId}/backups?branch_id={world.A.ProductionBranchId}"));
        var row = list.GetProperty("backups").EnumerateArray().Single(b => b.GetProperty("id").GetGuid() == backup);
        Assert.Equal(("failed", "table count 12, manifest says 14", 2, "Admin", false),
            (row.GetProperty("verification").GetString(), row.GetProperty("verification_reason").GetString(), row.GetProperty("modules_count").GetInt32(),
             row.GetProperty("requested_by_name").GetString(), row.GetProperty("can_manage").GetBoolean()));

        var detail = await JsonOf(await viewer.GetAsync($"/api/ops/backups/{backup}"));
        var task = Assert.Single(detail.GetProperty("tasks").EnumerateArray());
        Assert.Equal(["line 0", "line 1", "line 2"], task.GetProperty("logs").EnumerateArray().Select(l => l.GetProperty("line").GetString()));

        var before = await FingerprintAsync();
        foreach (var act in new[] { "verify", "download" })
            Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsync($"/api/ops/backups/{backup}/{act}", null)).StatusCode);
        Assert.Equal(before, await FingerprintAsync());

        var bad = await viewer.GetAsync($"/api/ops/projects/{world.A.ProjectId}/backups?branch_id=nope&limit=0");
        var errors = (await JsonOf(bad)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("branch_id", out _) && errors.TryGetProperty("limit", out _));
    }
}
