using System.Net;
using System.Text.Json;
using Dapper;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Api;

/// <summary>Each endpoint's happy path: the answer's shape and what it changed (audit row included).</summary>
public sealed class ApiHappyPathTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    static JsonElement Parse(string text) => JsonDocument.Parse(text).RootElement;

    [Fact]
    public async Task Project_lifecycle_with_audit_rows()
    {
        var client = world.Client("owner");
        var slug = world.Unique("erp");
        var created = await client.PostAsync("/api/ops/projects",
            ApiWorld.Body(new { org = world.A.OrgSlug, name = "ERP <script>alert(1)</script>", slug, repo_url = "git@github.com:acme/erp.git", runtime_version = "18.0" }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var project = Parse(await created.Content.ReadAsStringAsync());
        var id = project.GetProperty("id").GetGuid();
        Assert.Equal($"/api/ops/projects/{id}", created.Headers.Location?.OriginalString);
        Assert.Equal("18.0", project.GetProperty("runtime_version").GetString());
        Assert.Equal("ERP <script>alert(1)</script>", project.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, project.GetProperty("production_branch").ValueKind);

        var patched = await client.PatchAsync($"/api/ops/projects/{id}", ApiWorld.Body(new { name = "ERP", runtime_version = "19.0" }));
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.Equal("19.0", Parse(await patched.Content.ReadAsStringAsync()).GetProperty("runtime_version").GetString());
        Assert.Equal("ERP", Parse(await client.GetStringAsync($"/api/ops/projects/{id}")).GetProperty("name").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/ops/projects/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/ops/projects/{id}")).StatusCode);

        var audit = Parse(await client.GetStringAsync($"/api/ops/orgs/{world.A.OrgId}/audit?limit=50")).GetProperty("entries").EnumerateArray()
            .Where(e => e.GetProperty("target_id").GetString() == id.ToString()).Select(e => e.GetProperty("action").GetString()).ToList();
        Assert.Equal(["project.delete", "project.update", "project.create"], audit);
        var update = Parse(await client.GetStringAsync($"/api/ops/orgs/{world.A.OrgId}/audit?limit=50")).GetProperty("entries").EnumerateArray()
            .First(e => e.GetProperty("action").GetString() == "project.update");
        Assert.Contains("19.0", update.GetProperty("after").GetString());
        Assert.Contains("18.0", update.GetProperty("before").GetString());
        Assert.Equal("owner@a.test", update.GetProperty("actor_email").GetString());
    }

    [Fact]
    public async Task Branch_lifecycle_promotion_demotes_the_old_production_branch()
    {
        var project = await world.NewProjectAsync(world.A);
        var client = world.Client("admin");
        var created = await client.PostAsync($"/api/ops/projects/{project}/branches", ApiWorld.Body(new { name = "release/19.1" }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var branch = Parse(await created.Content.ReadAsStringAsync());
        Assert.Equal("development", branch.GetProperty("stage").GetString());
        var id = branch.GetProperty("id").GetGuid();

        var moved = await client.PostAsync($"/api/ops/projects/{project}/branches/{id}/stage", ApiWorld.Body(new { stage = "production" }));
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        Assert.True(Parse(await moved.Content.ReadAsStringAsync()).GetProperty("is_production").GetBoolean());

        var branches = Parse(await client.GetStringAsync($"/api/ops/projects/{project}/branches")).GetProperty("branches").EnumerateArray().ToList();
        Assert.Single(branches, b => b.GetProperty("is_production").GetBoolean());
        Assert.Equal("staging", branches.Single(b => b.GetProperty("name").GetString() == "main").GetProperty("stage").GetString());
        Assert.Equal("production", branches[0].GetProperty("stage").GetString()); // production listed first

        var archiveProduction = await client.DeleteAsync($"/api/ops/projects/{project}/branches/{id}");
        Assert.Equal(HttpStatusCode.Conflict, archiveProduction.StatusCode);
        var main = branches.Single(b => b.GetProperty("name").GetString() == "main").GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/ops/projects/{project}/branches/{main}")).StatusCode);
        Assert.DoesNotContain("\"main\"", await client.GetStringAsync($"/api/ops/projects/{project}/branches"));
    }

    [Fact]
    public async Task Builds_page_through_every_build_once_with_filters()
    {
        var project = await world.NewProjectAsync(world.A);
        await using (var conn = await Accounts.OpenAsync(world.Factory.Owner))
            await conn.ExecuteAsync("""
                insert into ops.builds (project_id, branch_id, status, trigger, commit_sha, created_at)
                select b.project_id, b.id, case when g % 3 = 0 then 'failed' else 'success' end, 'push', 'abcd' || g, now() - make_interval(secs => g / 2)
                from ops.branches b cross join generate_series(1, 25) g
                where b.project_id = @project and b.name in ('main', 'staging')
                """, new { project });
        var client = world.Client("viewer");
        var seen = new List<Guid>();
        string? cursor = null;
        do
        {
            var page = Parse(await client.GetStringAsync($"/api/ops/projects/{project}/builds?limit=7{(cursor is null ? "" : $"&cursor={cursor}")}"));
            seen.AddRange(page.GetProperty("builds").EnumerateArray().Select(b => b.GetProperty("id").GetGuid()));
            cursor = page.GetProperty("next_cursor").GetString();
        } while (cursor is not null);
        Assert.Equal(50, seen.Count);
        Assert.Equal(50, seen.Distinct().Count());

        var failedOnMain = Parse(await client.GetStringAsync($"/api/ops/projects/{project}/builds?branch=main&status=failed&limit=200"))
            .GetProperty("builds").EnumerateArray().ToList();
        Assert.Equal(8, failedOnMain.Count);
        Assert.All(failedOnMain, b => { Assert.Equal("main", b.GetProperty("branch").GetString()); Assert.Equal("failed", b.GetProperty("status").GetString()); });
        var one = Parse(await client.GetStringAsync($"/api/ops/builds/{failedOnMain[0].GetProperty("id").GetGuid()}"));
        Assert.Equal("production", one.GetProperty("stage").GetString());
    }

    [Fact]
    public async Task Members_invite_accept_change_remove_and_the_last_owner_stays()
    {
        var client = world.Client("owner");
        var email = await world.NewUserEmailAsync();
        var invited = await client.PostAsync($"/api/ops/orgs/{world.A.OrgId}/members", ApiWorld.Body(new { email, role = "developer" }));
        Assert.Equal(HttpStatusCode.Accepted, invited.StatusCode);
        var invitation = Parse(await invited.Content.ReadAsStringAsync()).GetProperty("id").GetGuid();
        Assert.Equal($"/api/ops/orgs/{world.A.OrgId}/invitations/{invitation}", invited.Headers.Location?.OriginalString);
        Assert.DoesNotContain(email, await client.GetStringAsync($"/api/ops/orgs/{world.A.OrgId}/members")); // not before they accept

        await using (var conn = await Accounts.OpenAsync(world.Factory.Owner))
        {
            var invitee = world.Client(null).WithToken(await Accounts.CreateTokenAsync(world.Factory.Owner,
                await conn.ExecuteScalarAsync<Guid>("select id from registry.users where email = @email", new { email })));
            Assert.Contains(invitation.ToString(), await invitee.GetStringAsync("/api/ops/invitations"));
            Assert.Equal(HttpStatusCode.OK, (await invitee.PostAsync($"/api/ops/invitations/{invitation}/accept", null)).StatusCode);
        }
        var userId = Parse(await client.GetStringAsync($"/api/ops/orgs/{world.A.OrgId}/members")).GetProperty("members").EnumerateArray()
            .Single(m => m.GetProperty("email").GetString() == email).GetProperty("user_id").GetGuid();
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync($"/api/ops/orgs/{world.A.OrgId}/members", ApiWorld.Body(new { email, role = "viewer" }))).StatusCode);

        var changed = await client.PatchAsync($"/api/ops/orgs/{world.A.OrgId}/members/{userId}", ApiWorld.Body(new { role = "admin" }));
        Assert.Equal("admin", Parse(await changed.Content.ReadAsStringAsync()).GetProperty("role").GetString());
        Assert.Contains(email, await client.GetStringAsync($"/api/ops/orgs/{world.A.OrgId}/members"));
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/ops/orgs/{world.A.OrgId}/members/{userId}")).StatusCode);
        Assert.DoesNotContain(email, await client.GetStringAsync($"/api/ops/orgs/{world.A.OrgId}/members"));

        // An admin may not make someone owner; the only owner may not step down.
        var admin = world.Client("admin");
        var grant = await admin.PatchAsync($"/api/ops/orgs/{world.A.OrgId}/members/{await world.NewOrgMemberAsync(world.A)}", ApiWorld.Body(new { role = "owner" }));
        Assert.Equal(HttpStatusCode.Forbidden, grant.StatusCode);
        var stepDown = await client.PatchAsync($"/api/ops/orgs/{world.A.OrgId}/members/{world.A.OwnerId}", ApiWorld.Body(new { role = "viewer" }));
        Assert.Equal(HttpStatusCode.Conflict, stepDown.StatusCode);
    }

    [Fact]
    public async Task A_project_only_member_sees_that_project_and_nothing_else_of_the_org()
    {
        var user = await Accounts.CreateUserAsync(world.Factory.Owner, $"{world.Unique("solo")}@x.test");
        await using (var conn = await Accounts.OpenAsync(world.Factory.Owner))
            await conn.ExecuteAsync("insert into ops.project_members (project_id, user_id, role) values (@ProjectId, @user, 'developer')", new { world.A.ProjectId, user });
        var other = await world.NewProjectAsync(world.A);
        var client = world.Client(null).WithToken(await Accounts.CreateTokenAsync(world.Factory.Owner, user));

        var projects = Parse(await client.GetStringAsync("/api/ops/projects")).GetProperty("projects").EnumerateArray().Select(p => p.GetProperty("id").GetGuid()).ToList();
        Assert.Equal([world.A.ProjectId], projects);
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync($"/api/ops/projects/{world.A.ProjectId}/branches", ApiWorld.Body(new { name = world.Unique("solo") }))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/ops/projects/{other}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/ops/orgs/{world.A.OrgId}/members")).StatusCode);
    }

    [Fact]
    public async Task A_member_may_leave_and_the_departure_is_audited()
    {
        var email = $"{world.Unique("leaver")}@x.test";
        var userId = await Accounts.CreateUserAsync(world.Factory.Owner, email, world.A.OrgId, "admin");
        var client = world.Client(null).WithToken(await Accounts.CreateTokenAsync(world.Factory.Owner, userId));
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/ops/orgs/{world.A.OrgId}/members/{userId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/ops/orgs/{world.A.OrgId}/members")).StatusCode);

        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>(
            "select count(*) from ops.audit_log where action = 'member.remove' and actor_user_id = @userId and target_id = @target",
            new { userId, target = userId.ToString() }));
    }
}
