using System.Net;
using System.Text.Json;
using Dapper;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Members;

/// <summary>
/// Adding a member by email. An admin used to learn whether any account had an email (201 or 400 "no active user") and
/// could put someone of another organisation into theirs without asking. Now everyone outside the organisation is
/// invited — the same 202 for an existing account and an unknown address — and joins only by accepting.
/// </summary>
public sealed class InvitationTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement.Clone();

    string OrgMembers => $"/api/ops/orgs/{world.A.OrgId}/members";

    /// <summary>A member of organisation B (someone A's admins cannot see), with a token of their own.</summary>
    async Task<(string Email, Guid Id, HttpClient Client)> OutsiderAsync()
    {
        var email = $"{world.Unique("outsider")}@b.test";
        var id = await Accounts.CreateUserAsync(world.Factory.Owner, email, world.B.OrgId, "viewer");
        return (email, id, world.Client(null).WithToken(await Accounts.CreateTokenAsync(world.Factory.Owner, id)));
    }

    async Task<long> CountAsync(string sql, object args)
    {
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        return await conn.ExecuteScalarAsync<long>(sql, args);
    }

    Task<long> OrgMembershipsAsync(Guid user) =>
        CountAsync("select count(*) from registry.org_members where org_id = @OrgId and user_id = @user", new { world.A.OrgId, user });

    async Task<Guid> InviteAsync(string email, string role = "developer", string actor = "admin", string? path = null)
    {
        var response = await world.Client(actor).PostAsync(path ?? OrgMembers, ApiWorld.Body(new { email, role }));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return Parse(await response.Content.ReadAsStringAsync()).GetProperty("id").GetGuid();
    }

    [Fact]
    public async Task The_answer_is_the_same_for_an_account_of_another_org_and_an_unknown_email()
    {
        var (email, id, _) = await OutsiderAsync();
        var admin = world.Client("admin");
        var existing = await admin.PostAsync(OrgMembers, ApiWorld.Body(new { email, role = "viewer" }));
        var unknown = await admin.PostAsync(OrgMembers, ApiWorld.Body(new { email = $"{world.Unique("nobody")}@nowhere.test", role = "viewer" }));

        Assert.Equal(HttpStatusCode.Accepted, existing.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, unknown.StatusCode);
        var (a, b) = (Parse(await existing.Content.ReadAsStringAsync()), Parse(await unknown.Content.ReadAsStringAsync()));
        Assert.Equal(a.EnumerateObject().Select(p => p.Name), b.EnumerateObject().Select(p => p.Name));
        foreach (var same in new[] { "org_id", "project_id", "role", "invited_by" })
            Assert.Equal(a.GetProperty(same).ToString(), b.GetProperty(same).ToString());
        Assert.Equal(existing.Headers.Select(h => h.Key).Order(), unknown.Headers.Select(h => h.Key).Order());
        Assert.DoesNotContain(id.ToString(), a.ToString()); // no account id either
        Assert.Equal(0, await OrgMembershipsAsync(id)); // and nobody joined without saying yes
    }

    [Fact]
    public async Task The_invitee_sees_it_accepts_and_only_then_is_a_member()
    {
        var (email, id, invitee) = await OutsiderAsync();
        var invitation = await InviteAsync(email);

        var mine = Parse(await invitee.GetStringAsync("/api/ops/invitations")).GetProperty("invitations").EnumerateArray().Single();
        Assert.Equal(invitation, mine.GetProperty("id").GetGuid());
        Assert.Equal(world.A.OrgSlug, mine.GetProperty("org_slug").GetString());
        Assert.Equal("developer", mine.GetProperty("role").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await invitee.GetAsync(OrgMembers)).StatusCode);

        var accepted = await invitee.PostAsync($"/api/ops/invitations/{invitation}/accept", null);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(world.A.OrgId, Parse(await accepted.Content.ReadAsStringAsync()).GetProperty("org_id").GetGuid());
        Assert.Equal(1, await OrgMembershipsAsync(id));
        Assert.Contains(email, await invitee.GetStringAsync(OrgMembers));
        Assert.Empty(Parse(await invitee.GetStringAsync("/api/ops/invitations")).GetProperty("invitations").EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, (await invitee.PostAsync($"/api/ops/invitations/{invitation}/accept", null)).StatusCode); // used up
        Assert.Equal(2, await CountAsync("""
            select count(*) from ops.audit_log
             where org_id = @OrgId and ((action = 'member.invite' and target_id = @invitation) or (action = 'member.join' and actor_user_id = @id))
            """, new { world.A.OrgId, invitation = invitation.ToString(), id }));
    }

    [Fact]
    public async Task Nobody_else_sees_or_accepts_an_invitation()
    {
        var (email, _, _) = await OutsiderAsync();
        var invitation = await InviteAsync(email);
        var (_, stranger, strangerClient) = await OutsiderAsync();

        Assert.DoesNotContain(invitation.ToString(), await strangerClient.GetStringAsync("/api/ops/invitations"));
        Assert.DoesNotContain(invitation.ToString(), await world.Client("viewer").GetStringAsync("/api/ops/invitations"));
        Assert.Equal(HttpStatusCode.NotFound, (await strangerClient.PostAsync($"/api/ops/invitations/{invitation}/accept", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await strangerClient.PostAsync($"/api/ops/invitations/{invitation}/decline", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await strangerClient.PostAsync($"/api/ops/invitations/{Guid.NewGuid()}/accept", null)).StatusCode);
        Assert.Equal(0, await OrgMembershipsAsync(stranger));
        // Organisation B's owner administers nothing of A: A's invitations do not exist for them.
        Assert.Equal(HttpStatusCode.NotFound, (await world.Client("b-owner").GetAsync($"/api/ops/orgs/{world.A.OrgId}/invitations")).StatusCode);
    }

    [Fact]
    public async Task Declined_and_withdrawn_invitations_can_no_longer_be_accepted()
    {
        var (email, id, invitee) = await OutsiderAsync();
        var declined = await InviteAsync(email, "viewer");
        Assert.Equal(HttpStatusCode.NoContent, (await invitee.PostAsync($"/api/ops/invitations/{declined}/decline", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await invitee.PostAsync($"/api/ops/invitations/{declined}/accept", null)).StatusCode);
        Assert.Equal(1, await CountAsync("select count(*) from ops.audit_log where org_id = @OrgId and action = 'member.decline' and actor_user_id = @id",
            new { world.A.OrgId, id }));

        var withdrawn = await InviteAsync(email, "viewer");
        Assert.Contains(withdrawn.ToString(), await world.Client("admin").GetStringAsync($"/api/ops/orgs/{world.A.OrgId}/invitations"));
        Assert.Equal(HttpStatusCode.NoContent, (await world.Client("admin").DeleteAsync($"/api/ops/orgs/{world.A.OrgId}/invitations/{withdrawn}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await invitee.PostAsync($"/api/ops/invitations/{withdrawn}/accept", null)).StatusCode);
        Assert.Equal(0, await OrgMembershipsAsync(id));
    }

    [Fact]
    public async Task Only_owners_invite_owners()
    {
        var (email, _, _) = await OutsiderAsync();
        var refused = await world.Client("admin").PostAsync(OrgMembers, ApiWorld.Body(new { email, role = "owner" }));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(0, await CountAsync("select count(*) from ops.member_invitations where email = @email", new { email }));
        await InviteAsync(email, "owner", actor: "owner");
    }

    [Fact]
    public async Task A_project_admin_adds_an_org_colleague_at_once_and_invites_anyone_else()
    {
        var path = $"/api/ops/projects/{world.A.ProjectId}/members";
        var colleague = await world.NewOrgMemberEmailAsync(world.A);
        var added = await world.Client("admin").PostAsync(path, ApiWorld.Body(new { email = colleague, role = "developer" }));
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        Assert.Equal(colleague, Parse(await added.Content.ReadAsStringAsync()).GetProperty("email").GetString());

        var (email, id, invitee) = await OutsiderAsync();
        var invitation = await InviteAsync(email, "tester", path: path);
        Assert.Equal(HttpStatusCode.NotFound, (await invitee.GetAsync($"/api/ops/projects/{world.A.ProjectId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await invitee.PostAsync($"/api/ops/invitations/{invitation}/accept", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await invitee.GetAsync($"/api/ops/projects/{world.A.ProjectId}")).StatusCode);
        Assert.Equal(0, await OrgMembershipsAsync(id)); // the project only, not the organisation
    }

    [Fact]
    public async Task An_invitation_to_an_email_without_an_account_waits_for_that_account()
    {
        var email = $"{world.Unique("later")}@x.test";
        var invitation = await InviteAsync(email);
        await InviteAsync(email, "viewer"); // inviting again renews the same invitation
        Assert.Equal(1, await CountAsync("select count(*) from ops.member_invitations where email = @email", new { email }));

        var id = await Accounts.CreateUserAsync(world.Factory.Owner, email); // the operator makes the account later
        var client = world.Client(null).WithToken(await Accounts.CreateTokenAsync(world.Factory.Owner, id));
        var joined = Parse(await (await client.PostAsync($"/api/ops/invitations/{invitation}/accept", null)).Content.ReadAsStringAsync());
        Assert.Equal("viewer", joined.GetProperty("role").GetString());
        Assert.Equal(1, await OrgMembershipsAsync(id));
    }
}
