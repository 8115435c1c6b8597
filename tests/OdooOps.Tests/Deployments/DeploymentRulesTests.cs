using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Npgsql;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Deployments;

/// <summary>
/// The rules of deployments through the API, on rows as releases leave them: one live deployment per branch, a rollback
/// only to a release its host still keeps, production rollbacks for admins (developers on development and staging), a
/// backup to restore only a succeeded one of the branch, and every rollback audited. Each refusal changes nothing.
/// </summary>
public sealed class DeploymentRulesTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    NpgsqlConnectionStringBuilder Owner => world.Factory.Owner;

    async Task<string> NewBranchAsync(string stage)
    {
        var id = await world.NewBranchAsync(world.A.ProjectId, stage);
        await using var conn = await Accounts.OpenAsync(Owner);
        return (await conn.ExecuteScalarAsync<string>("select name from ops.branches where id = @id", new { id }))!;
    }

    async Task<Guid> RunnerAsync() => await DeploymentRows.RunnerAsync(Owner, world.A.OrgId, world.Unique("host"));

    async Task<DeploymentRows.Release[]> ReleasesAsync(string branch, int count)
    {
        var runner = await RunnerAsync();
        var releases = new DeploymentRows.Release[count];
        for (var i = 0; i < count; i++) releases[i] = await DeploymentRows.ReleaseAsync(Owner, world.A.ProjectId, branch, runner);
        return releases;
    }

    Task<HttpResponseMessage> RollbackAsync(string role, Guid deployment, Guid? backup = null) =>
        world.Client(role).PostAsync($"/api/ops/deployments/{deployment}/rollback", ApiWorld.Body(new { backup_id = backup }));

    async Task<string> BranchStateAsync(string branch)
    {
        await using var conn = await Accounts.OpenAsync(Owner);
        return await conn.ExecuteScalarAsync<string>("""
            select md5(concat_ws('|',
                (select string_agg(d::text, ',' order by d.id) from ops.deployments d join ops.branches b on b.id = d.branch_id where b.name = @branch),
                (select string_agg(i::text, ',' order by i.id) from ops.instances i join ops.branches b on b.id = i.branch_id where b.name = @branch),
                (select count(*) from ops.audit_log where action = 'deployment.rollback')))
            """, new { branch }) ?? "";
    }

    static async Task<string> DetailAsync(HttpResponseMessage response)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("detail").GetString() ?? "";
    }

    [Fact]
    public async Task A_branch_never_has_two_live_deployments()
    {
        var branch = await NewBranchAsync("staging");
        var r = await ReleasesAsync(branch, 3);
        Assert.Equal(["superseded", "superseded", "live"], [await DeploymentRows.StatusAsync(Owner, r[0].DeploymentId),
            await DeploymentRows.StatusAsync(Owner, r[1].DeploymentId), await DeploymentRows.StatusAsync(Owner, r[2].DeploymentId)]);

        // The database itself refuses a second live one, whoever writes it.
        await using (var conn = await Accounts.OpenAsync(Owner))
        {
            var e = await Assert.ThrowsAsync<PostgresException>(() => conn.ExecuteAsync(
                "update ops.deployments set status = 'live' where id = @DeploymentId", r[0]));
            Assert.Equal(("23505", "deployments_one_live_idx"), (e.SqlState, e.ConstraintName));
        }

        // Two rollbacks at once, on production where they go live at once: they take turns, and one release is live after.
        var main = await ReleasesAsync("main", 3);
        var answers = await Task.WhenAll(RollbackAsync("admin", main[0].DeploymentId), RollbackAsync("owner", main[1].DeploymentId));
        Assert.All(answers, a => Assert.True(a.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.Conflict, a.StatusCode.ToString()));
        await using var check = await Accounts.OpenAsync(Owner);
        Assert.Equal(1, await check.ExecuteScalarAsync<int>("""
            select count(*) from ops.deployments d join ops.branches b on b.id = d.branch_id
             where b.project_id = @ProjectId and b.name = 'main' and d.status = 'live'
            """, world.A));
        Assert.Equal(1, await check.ExecuteScalarAsync<int>("""
            select count(*) from ops.instances i join ops.branches b on b.id = i.branch_id
             where b.project_id = @ProjectId and b.name = 'main' and i.is_current
            """, world.A));
    }

    [Fact]
    public async Task A_development_deployment_goes_live_at_the_switch_fails_with_its_instance_and_ends_when_it_expires()
    {
        var branch = await NewBranchAsync("development");
        var runner = await RunnerAsync();
        var first = await DeploymentRows.ReleaseAsync(Owner, world.A.ProjectId, branch, runner);
        await using var conn = await Accounts.OpenAsync(Owner);
        async Task<(Guid Instance, Guid Deployment)> StartingAsync() =>
            await conn.QuerySingleAsync<(Guid, Guid)>("""
                with build as (
                    insert into ops.builds (project_id, branch_id, status, trigger, commit_sha, finished_at)
                    select project_id, id, 'success', 'push', 'c0ffee', now() from ops.branches where project_id = @ProjectId and name = @branch
                    returning id, project_id, branch_id),
                inst as (
                    insert into ops.instances (project_id, branch_id, build_id, runner_id, stage, database_name, drop_database)
                    select project_id, branch_id, id, @runner, 'development', 'oo-' || substr(md5(random()::text), 1, 12), true from build
                    returning id)
                select id, ops_private.record_deployment(id) from inst
                """, new { world.A.ProjectId, branch, runner });
        Task SyncAsync(Guid instance, string state, string? reason = null) =>
            conn.ExecuteAsync("select count(*) from ops.sync_runner_instances(@runner, null, @reports::jsonb)", new
            {
                runner, reports = JsonSerializer.Serialize(new[] { new { instance_id = instance, state, reason, http_port = 20001, gevent_port = 20002,
                    restarts = 0, ready_at = state == "running" ? DateTime.UtcNow : (DateTime?)null } }),
            });

        var second = await StartingAsync();
        Assert.Equal("deploying", await DeploymentRows.StatusAsync(Owner, second.Deployment));
        Assert.Equal("live", await DeploymentRows.StatusAsync(Owner, first.DeploymentId));
        await SyncAsync(second.Instance, "running"); // the switch
        Assert.Equal(("live", "superseded"), (await DeploymentRows.StatusAsync(Owner, second.Deployment), await DeploymentRows.StatusAsync(Owner, first.DeploymentId)));
        Assert.Equal(0L, await conn.ExecuteScalarAsync<long>("select switch_ms from ops.deployments where id = @id", new { id = second.Deployment }));

        var third = await StartingAsync();
        await SyncAsync(third.Instance, "failed", "crashed 5 times in 10 minutes");
        Assert.Equal(("failed", "crashed 5 times in 10 minutes"), await conn.QuerySingleAsync<(string, string)>(
            "select status, reason from ops.deployments where id = @id", new { id = third.Deployment }));
        Assert.Equal("live", await DeploymentRows.StatusAsync(Owner, second.Deployment));

        await conn.ExecuteAsync("update ops.instances set expires_at = now() where id = @id", new { id = second.Instance });
        await SyncAsync(second.Instance, "running");
        var ended = await conn.QuerySingleAsync<(string Status, string Reason, DateTime? EndedAt)>(
            "select status, reason, ended_at from ops.deployments where id = @id", new { id = second.Deployment });
        Assert.Equal("superseded", ended.Status);
        Assert.StartsWith("expired", ended.Reason);
        Assert.NotNull(ended.EndedAt);
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("""
            select count(*) from ops.deployments d join ops.branches b on b.id = d.branch_id where b.name = @branch and d.status = 'live'
            """, new { branch }));
    }

    [Fact]
    public async Task A_rollback_is_refused_to_a_release_its_host_no_longer_keeps()
    {
        var branch = await NewBranchAsync("staging");
        var r = await ReleasesAsync(branch, 4);
        await DeploymentRows.CleanRetiredAsync(Owner, world.A.ProjectId); // the runner cleaned the old servers up
        var before = await BranchStateAsync(branch);

        var refused = await RollbackAsync("developer", r[0].DeploymentId);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no longer kept", await DetailAsync(refused));
        Assert.Contains(r[0].Commit[..12], await DetailAsync(refused));
        Assert.Equal(before, await BranchStateAsync(branch));
        var listed = await world.Client("developer").GetFromJsonAsync<JsonElement>($"/api/ops/projects/{world.A.ProjectId}/deployments?limit=500");
        var oldest = listed.GetProperty("deployments").EnumerateArray().Single(d => d.GetProperty("id").GetGuid() == r[0].DeploymentId);
        Assert.False(oldest.GetProperty("can_roll_back_to").GetBoolean());

        // The newest three are kept: a staging rollback starts the release on the current database and switches once it answers.
        var accepted = await RollbackAsync("developer", r[1].DeploymentId);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        using var json = JsonDocument.Parse(await accepted.Content.ReadAsStringAsync());
        var rollback = json.RootElement.GetProperty("deployment");
        Assert.Equal(("rollback", "deploying", r[1].BuildId), (rollback.GetProperty("kind").GetString(), rollback.GetProperty("status").GetString(),
            rollback.GetProperty("build_id").GetGuid()));
        Assert.Equal(r[3].DeploymentId, json.RootElement.GetProperty("rollback_of").GetGuid());
        Assert.Contains("not rolled back", json.RootElement.GetProperty("message").GetString());
        await using var conn = await Accounts.OpenAsync(Owner);
        var instance = await conn.QuerySingleAsync<(string Database, bool Current, bool Drop)>(
            "select database_name, is_current, drop_database from ops.instances where id = @id", new { id = rollback.GetProperty("instance_id").GetGuid() });
        var current = await conn.ExecuteScalarAsync<string>("select database_name from ops.instances where id = @InstanceId", r[3]);
        Assert.Equal((current, false, true), instance);
        Assert.Equal("live", await DeploymentRows.StatusAsync(Owner, r[3].DeploymentId)); // until the switch
    }

    [Theory]
    [InlineData("main", "developer", false)]
    [InlineData("main", "tester", false)]
    [InlineData("main", "viewer", false)]
    [InlineData("main", "admin", true)]
    [InlineData("staging", "tester", false)]
    [InlineData("staging", "developer", true)]
    public async Task Production_rollback_needs_an_admin_and_staging_a_developer(string stage, string role, bool allowed)
    {
        var branch = stage == "main" ? "main" : await NewBranchAsync("staging");
        var r = await ReleasesAsync(branch, 2);
        var before = await BranchStateAsync(branch);
        var answer = await RollbackAsync(role, r[0].DeploymentId);
        if (!allowed)
        {
            Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);
            Assert.Contains($"needs the {(stage == "main" ? "admin" : "developer")} role or higher; you are {role}", await DetailAsync(answer));
            Assert.Equal(before, await BranchStateAsync(branch));
            return;
        }
        Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);
        if (stage != "main") return;
        // Production goes back at once: the undone deployment is rolled back, its server stops, the old release is current.
        Assert.Equal("rolled_back", await DeploymentRows.StatusAsync(Owner, r[1].DeploymentId));
        await using var conn = await Accounts.OpenAsync(Owner);
        Assert.Equal(r[0].BuildId, await conn.ExecuteScalarAsync<Guid>("""
            select i.build_id from ops.instances i join ops.branches b on b.id = i.branch_id
             where b.project_id = @ProjectId and b.name = 'main' and i.is_current
            """, world.A));
        Assert.Equal("stopped", await conn.ExecuteScalarAsync<string>("select desired from ops.instances where id = @InstanceId", r[1]));
    }

    [Fact]
    public async Task A_rollback_writes_its_audit_row_naming_who_and_what()
    {
        var r = await ReleasesAsync("main", 2);
        var answer = await RollbackAsync("admin", r[0].DeploymentId);
        Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);
        using var json = JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
        var id = json.RootElement.GetProperty("deployment").GetProperty("id").GetGuid();
        await using var conn = await Accounts.OpenAsync(Owner);
        var row = await conn.QuerySingleAsync<(string Actor, string Email, string Before, string After)>("""
            select a.actor, u.email, a.before::text, a.after::text
              from ops.audit_log a join registry.users u on u.id = a.actor_user_id
             where a.action = 'deployment.rollback' and a.target_type = 'deployment' and a.target_id = @id
            """, new { id = id.ToString() });
        Assert.Equal(("user", "admin@a.test"), (row.Actor, row.Email));
        Assert.Contains(r[1].DeploymentId.ToString(), row.Before);
        Assert.Contains(r[0].BuildId.ToString(), row.After);
        Assert.Contains($"\"rollback_of\": \"{r[1].DeploymentId}\"", row.After);
        // Through the API too, for the org's admins.
        Assert.Contains(id.ToString(), await world.Client("admin").GetStringAsync($"/api/ops/orgs/{world.A.OrgId}/audit"));
    }

    [Fact]
    public async Task A_backup_to_restore_must_be_a_succeeded_backup_of_the_branch()
    {
        var branch = await NewBranchAsync("staging");
        var r = await ReleasesAsync(branch, 2);
        var elsewhere = await DeploymentRows.BackupAsync(Owner, world.A.ProjectId, "feature-x");
        var failed = await DeploymentRows.BackupAsync(Owner, world.A.ProjectId, branch, status: "failed");
        var otherTenant = await DeploymentRows.BackupAsync(Owner, world.B.ProjectId, "main");
        var before = await BranchStateAsync(branch);
        foreach (var backup in new[] { elsewhere, failed, otherTenant, Guid.NewGuid() })
        {
            var answer = await RollbackAsync("developer", r[0].DeploymentId, backup);
            Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
            var problem = await answer.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Contains($"a succeeded backup of {branch}", problem.GetProperty("errors").GetProperty("backup_id")[0].GetString());
            Assert.DoesNotContain("org-b", problem.ToString());
        }
        Assert.Equal(before, await BranchStateAsync(branch));
    }

    [Fact]
    public async Task The_history_shows_outcome_who_and_when_and_offers_only_what_may_be_rolled_back_to()
    {
        var runner = await RunnerAsync();
        var ada = await Accounts.CreateUserAsync(Owner, $"{world.Unique("ada")}@a.test", world.A.OrgId, "developer");
        var branch = await NewBranchAsync("staging");
        var first = await DeploymentRows.ReleaseAsync(Owner, world.A.ProjectId, branch, runner, triggeredBy: ada);
        var second = await DeploymentRows.ReleaseAsync(Owner, world.A.ProjectId, branch, runner);
        var branchId = await world.BranchAsync(world.A.ProjectId, branch);

        var list = await world.Client("developer").GetFromJsonAsync<JsonElement>($"/api/ops/projects/{world.A.ProjectId}/deployments?branch_id={branchId}");
        var rows = list.GetProperty("deployments").EnumerateArray().ToList();
        Assert.Equal([second.DeploymentId, first.DeploymentId], rows.Select(d => d.GetProperty("id").GetGuid()));
        Assert.Equal(("live", false), (rows[0].GetProperty("status").GetString(), rows[0].GetProperty("can_roll_back_to").GetBoolean()));
        Assert.Contains("live on", rows[0].GetProperty("rollback_refusal").GetString());
        Assert.Equal(("superseded", true, 0L), (rows[1].GetProperty("status").GetString(), rows[1].GetProperty("can_roll_back_to").GetBoolean(),
            rows[1].GetProperty("switch_ms").GetInt64()));
        Assert.EndsWith("@a.test", rows[1].GetProperty("created_by_name").GetString());
        Assert.Equal(first.Commit, rows[1].GetProperty("commit_sha").GetString());
        Assert.NotEqual(JsonValueKind.Null, rows[1].GetProperty("ended_at").ValueKind);

        // A tester sees the same history, offered nothing.
        var tester = await world.Client("tester").GetFromJsonAsync<JsonElement>($"/api/ops/projects/{world.A.ProjectId}/deployments?branch_id={branchId}");
        Assert.All(tester.GetProperty("deployments").EnumerateArray(), d => Assert.False(d.GetProperty("can_roll_back_to").GetBoolean()));
        var bad = await world.Client("viewer").GetAsync($"/api/ops/projects/{world.A.ProjectId}/deployments?branch_id=nope");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("branch_id", await bad.Content.ReadAsStringAsync());
    }
}
