using System.Net;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Ui;

namespace OdooOps.Tests.Members;

/// <summary>
/// /app/members and /app/projects/{slug}/members over HTTP with session cookies: forms post to MemberAdmin and
/// Invitations (the API's use cases); the database decides who may, and the page shows its refusals with their status.
/// </summary>
public sealed class MembersPageTests(ConsoleWorld world) : IClassFixture<ConsoleWorld>
{
    const string Url = "/app/members";

    Task<Guid> UserAsync(string email) => world.ScalarAsync<Guid>("select id from registry.users where email = @email", new { email });

    Task<string> OrgRoleAsync(Guid user) =>
        world.ScalarAsync<string>("select role from registry.org_members where org_id = @OrgA and user_id = @user", new { world.OrgA, user });

    [Fact]
    public async Task A_viewer_posting_the_role_form_cannot_make_themself_owner()
    {
        var viewer = await world.ClientAsync("viewer");
        var me = await UserAsync("viewer@a.test");
        var page = await viewer.GetStringAsync(Url);
        Assert.DoesNotContain("id=\"add-member\"", page);
        Assert.DoesNotContain($"name=\"role-{me}\"", page);

        var response = await ConsoleWorld.PostFormAsync(viewer, Url, "member-change", new() { ["ChangeRole"] = me.ToString(), [$"role-{me}"] = "owner" });
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("viewer", await OrgRoleAsync(me));
        Assert.Equal(0L, await world.ScalarAsync<long>("select count(*) from ops.audit_log where action = 'member.role' and target_id = @me", new { me = me.ToString() }));
    }

    [Fact]
    public async Task The_last_owner_is_not_demoted_and_the_page_says_why()
    {
        var owner = await world.ClientAsync("owner");
        var me = await UserAsync("owner@a.test");
        var response = await ConsoleWorld.PostFormAsync(owner, Url, "member-change", new() { ["ChangeRole"] = me.ToString(), [$"role-{me}"] = "admin" });
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("owner@a.test is the organisation&#x27;s last owner and cannot be demoted", await response.Content.ReadAsStringAsync());
        Assert.Equal("owner", await OrgRoleAsync(me));
    }

    [Fact]
    public async Task An_admin_invites_an_unknown_email_and_a_bad_one_is_named_on_the_form()
    {
        var admin = await world.ClientAsync("admin");
        var email = $"{world.Unique("new")}@elsewhere.test";
        var sent = await ConsoleWorld.PostFormAsync(admin, Url, "member-add", new() { ["Email"] = email, ["Role"] = "developer" });
        Assert.Equal(HttpStatusCode.Redirect, sent.StatusCode);
        Assert.StartsWith($"{Url}?done=invite&invitation=", sent.Headers.Location?.PathAndQuery);
        var page = await admin.GetStringAsync(sent.Headers.Location!.PathAndQuery);
        Assert.Contains($"{email} was invited as developer", page);
        Assert.Contains($"data-email=\"{email}\"", page);
        Assert.Equal(1L, await world.ScalarAsync<long>("select count(*) from ops.member_invitations where email = @email and org_id = @OrgA", new { email, world.OrgA }));

        var bad = await ConsoleWorld.PostFormAsync(admin, Url, "member-add", new() { ["Email"] = "not-an-email", ["Role"] = "king" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var html = await bad.Content.ReadAsStringAsync();
        Assert.Contains("is not an email address", ConsoleWorld.FieldBlock(html, "email"));
        Assert.Contains("role must be one of", ConsoleWorld.FieldBlock(html, "role"));
    }

    [Fact]
    public async Task Another_organisations_member_cannot_be_changed_from_this_page()
    {
        var owner = await world.ClientAsync("owner");
        var stranger = await UserAsync("owner@b.test");
        var response = await ConsoleWorld.PostFormAsync(owner, Url, "member-change", new() { ["ChangeRole"] = stranger.ToString(), [$"role-{stranger}"] = "viewer" });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("owner", await world.ScalarAsync<string>("select role from registry.org_members where user_id = @stranger", new { stranger }));
    }

    [Fact]
    public async Task A_colleague_added_to_a_project_joins_at_once()
    {
        var (project, slug) = await world.NewProjectAsync();
        var admin = await world.ClientAsync("admin");
        var url = $"/app/projects/{slug}/members";
        Assert.Contains("No project members yet", await admin.GetStringAsync(url));
        var added = await ConsoleWorld.PostFormAsync(admin, url, "member-add", new() { ["Email"] = "TESTER@a.test", ["Role"] = "developer" });
        Assert.Equal(HttpStatusCode.Redirect, added.StatusCode);
        Assert.Contains("tester@a.test joined", await admin.GetStringAsync(added.Headers.Location!.PathAndQuery));
        Assert.Equal("developer", await world.ScalarAsync<string>(
            "select m.role from ops.project_members m join registry.users u on u.id = m.user_id where m.project_id = @project and u.email = 'tester@a.test'", new { project }));
    }
}
