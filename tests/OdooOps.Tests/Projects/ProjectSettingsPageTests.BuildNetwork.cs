using System.Net;
using OdooOps.Tests.Ui;

namespace OdooOps.Tests.Projects;

public sealed partial class ProjectSettingsPageTests
{
    Task<bool> OutboundAsync(Guid projectId) =>
        world.ScalarAsync<bool>("select build_network from ops.projects where id = @projectId", new { projectId });

    [Fact]
    public async Task An_admin_cuts_and_restores_the_build_network_with_audit_rows()
    {
        var (projectId, slug) = await world.NewProjectAsync();
        var admin = await world.ClientAsync("admin");
        Assert.Contains("checked", ConsoleWorld.FieldBlock(await admin.GetStringAsync(Url(slug)), "outbound_access"));

        // An unticked box is not posted: the form's hidden field says it was sent.
        var off = await ConsoleWorld.PostFormAsync(admin, Url(slug), "build-network", new() { ["Posted"] = "sent" });
        Assert.Equal(HttpStatusCode.Redirect, off.StatusCode);
        Assert.Equal($"{Url(slug)}?saved=network-off", off.Headers.Location?.PathAndQuery);
        Assert.False(await OutboundAsync(projectId));
        var page = await admin.GetStringAsync($"{Url(slug)}?saved=network-off");
        Assert.Contains("Build steps have no network from the next build that starts.", page);
        Assert.DoesNotContain("checked", ConsoleWorld.FieldBlock(page, "outbound_access"));

        var on = await ConsoleWorld.PostFormAsync(admin, Url(slug), "build-network", new() { ["Posted"] = "sent", ["Outbound"] = "on" });
        Assert.Equal(HttpStatusCode.Redirect, on.StatusCode);
        Assert.True(await OutboundAsync(projectId));
        var audit = (await AuditAsync(projectId)).Where(a => a.Action == "project.build_network").ToList();
        Assert.Equal(["{\"outbound_access\": true}", "{\"outbound_access\": false}"], audit.Select(a => a.Before));
        Assert.Equal(["{\"outbound_access\": false}", "{\"outbound_access\": true}"], audit.Select(a => a.After));
        Assert.All(audit, a => Assert.Equal("admin@a.test", a.Email));
    }

    [Theory]
    [InlineData("developer")]
    [InlineData("viewer")]
    public async Task Lower_roles_see_the_build_network_and_cannot_switch_it(string role)
    {
        var (projectId, slug) = await world.NewProjectAsync();
        var client = await world.ClientAsync(role);
        var html = await client.GetStringAsync(Url(slug));
        Assert.Contains("<p data-fact=\"build_network\">Outbound access allowed.</p>", html);
        Assert.DoesNotContain("value=\"build-network\"", html);

        var forged = await ConsoleWorld.PostFormAsync(client, Url(slug), "build-network", new() { ["Posted"] = "sent" });
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.True(await OutboundAsync(projectId));
        Assert.DoesNotContain(await AuditAsync(projectId), a => a.Action == "project.build_network");
    }
}
