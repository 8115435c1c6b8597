using System.Net;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Ui;

namespace OdooOps.Tests.Members;

/// <summary>/app/invitations over HTTP with session cookies: the top bar points at open invitations, and the invitee
/// accepts or declines them through an antiforgery-protected form — their own only.</summary>
public sealed class InvitationsPageTests(ConsoleWorld world) : IClassFixture<ConsoleWorld>
{
    const string Url = "/app/invitations";

    async Task<(string Email, Guid Id, HttpClient Client)> OutsiderAsync()
    {
        var email = $"{world.Unique("guest")}@b.test";
        var id = await Accounts.CreateUserAsync(world.Factory.Owner, email, world.OrgB, "viewer");
        var client = world.Factory.CreateClient(new() { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.Redirect, (await Accounts.SignInAsync(client, email)).StatusCode);
        return (email, id, client);
    }

    Task<Guid> InviteAsync(string email) => world.ScalarAsync<Guid>("""
        insert into ops.member_invitations (org_id, email, role, expires_at) values (@OrgA, @email, 'tester', now() + interval '1 day') returning id
        """, new { world.OrgA, email });

    Task<long> MembershipsAsync(Guid user) =>
        world.ScalarAsync<long>("select count(*) from registry.org_members where org_id = @OrgA and user_id = @user", new { world.OrgA, user });

    [Fact]
    public async Task The_invitee_finds_the_invitation_from_the_top_bar_and_accepts_it()
    {
        var (email, id, client) = await OutsiderAsync();
        var invitation = await InviteAsync(email);

        var projects = await client.GetStringAsync("/app/projects");
        Assert.Contains("href=\"app/invitations\"", projects);
        var page = await client.GetStringAsync(Url);
        Assert.Contains($"data-invitation-id=\"{invitation}\"", page);
        Assert.Contains("Org org-a", page);

        var accepted = await ConsoleWorld.PostFormAsync(client, Url, "invitation", new() { ["AcceptId"] = invitation.ToString() });
        Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        Assert.Equal("/app/projects?org=org-a", accepted.Headers.Location?.PathAndQuery);
        Assert.Equal(1, await MembershipsAsync(id));
        Assert.DoesNotContain("href=\"app/invitations\"", await client.GetStringAsync("/app/projects"));
    }

    [Fact]
    public async Task Declining_removes_it()
    {
        var (email, id, client) = await OutsiderAsync();
        var invitation = await InviteAsync(email);
        var declined = await ConsoleWorld.PostFormAsync(client, Url, "invitation", new() { ["DeclineId"] = invitation.ToString() });
        Assert.Equal(HttpStatusCode.Redirect, declined.StatusCode);
        Assert.Contains("Invitation declined.", await client.GetStringAsync(declined.Headers.Location!.OriginalString));
        Assert.Equal(0, await world.ScalarAsync<long>("select count(*) from ops.member_invitations where id = @invitation", new { invitation }));
        Assert.Equal(0, await MembershipsAsync(id));
    }

    [Fact]
    public async Task Someone_else_s_invitation_cannot_be_accepted_and_a_forged_form_is_refused()
    {
        var (email, _, _) = await OutsiderAsync();
        var invitation = await InviteAsync(email);
        var (strangerEmail, strangerId, stranger) = await OutsiderAsync();
        await InviteAsync(strangerEmail); // so the page shows them its form

        var response = await ConsoleWorld.PostFormAsync(stranger, Url, "invitation", new() { ["AcceptId"] = invitation.ToString() });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(0, await MembershipsAsync(strangerId));

        var (_, ownerId, owner) = await OutsiderAsync();
        var own = await InviteAsync((await world.ScalarAsync<string>("select email from registry.users where id = @ownerId", new { ownerId })));
        var forged = await ConsoleWorld.PostFormAsync(owner, Url, "invitation", new() { ["AcceptId"] = own.ToString() }, withToken: false);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal(0, await MembershipsAsync(ownerId));
    }
}
