using System.Net;
using OdooOps.Tests.Ui;

namespace OdooOps.Tests.Projects;

public sealed partial class ProjectSettingsPageTests
{
    Task<string> DevInstancesAsync(Guid projectId) =>
        world.ScalarAsync<string>("select dev_instance_ttl::text || ' / ' || max_dev_instances from ops.projects where id = @projectId", new { projectId });

    [Fact]
    public async Task An_admin_sets_the_development_instances_with_an_audit_row_and_bad_values_stay_on_their_fields()
    {
        var (projectId, slug) = await world.NewProjectAsync();
        var admin = await world.ClientAsync("admin");
        var page = await admin.GetStringAsync(Url(slug));
        Assert.Contains("value=\"72\"", ConsoleWorld.FieldBlock(page, "dev_ttl_hours"));
        Assert.Contains("now 3 days", ConsoleWorld.FieldBlock(page, "dev_ttl_hours"));
        Assert.Contains("value=\"5\"", ConsoleWorld.FieldBlock(page, "max_dev_instances"));
        Assert.Contains("running ones keep the expiry they started with", page);

        var refused = await ConsoleWorld.PostFormAsync(admin, Url(slug), "dev-instances", new() { ["TtlHours"] = "0.1", ["MaxDev"] = "many" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        var html = await refused.Content.ReadAsStringAsync();
        Assert.Contains("dev_ttl_hours must be between 0.17 (10 minutes) and 2160 (90 days).", ConsoleWorld.FieldBlock(html, "dev_ttl_hours"));
        Assert.Contains("value=\"many\"", ConsoleWorld.FieldBlock(html, "max_dev_instances"));
        Assert.Contains("max_dev_instances must be between 0 and 100.", ConsoleWorld.FieldBlock(html, "max_dev_instances"));
        Assert.Equal("3 days / 5", await DevInstancesAsync(projectId));

        var saved = await ConsoleWorld.PostFormAsync(admin, Url(slug), "dev-instances", new() { ["TtlHours"] = "36", ["MaxDev"] = "2" });
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        Assert.Equal($"{Url(slug)}?saved=dev-instances", saved.Headers.Location?.PathAndQuery);
        Assert.Equal("36:00:00 / 2", await DevInstancesAsync(projectId));
        var after = await admin.GetStringAsync($"{Url(slug)}?saved=dev-instances");
        Assert.Contains("Development instances are saved: a new lifetime applies to instances started from now on.", after);
        Assert.Contains("now 36 hours", ConsoleWorld.FieldBlock(after, "dev_ttl_hours"));
        var audit = Assert.Single(await AuditAsync(projectId), a => a.Action == "project.instance_settings");
        Assert.Equal(("admin@a.test", "{\"dev_ttl_hours\": 72, \"max_dev_instances\": 5}", "{\"dev_ttl_hours\": 36, \"max_dev_instances\": 2}"),
            (audit.Email, audit.Before, audit.After));
    }

    [Theory]
    [InlineData("developer")]
    [InlineData("viewer")]
    public async Task Lower_roles_see_the_development_instances_and_cannot_change_them(string role)
    {
        var (projectId, slug) = await world.NewProjectAsync();
        var client = await world.ClientAsync(role);
        var html = await client.GetStringAsync(Url(slug));
        Assert.Contains("<dd data-fact=\"dev_ttl\">3 days</dd>", html);
        Assert.Contains("<dd data-fact=\"max_dev_instances\">5 at once</dd>", html);
        Assert.DoesNotContain("value=\"dev-instances\"", html);

        var forged = await ConsoleWorld.PostFormAsync(client, Url(slug), "dev-instances", new() { ["TtlHours"] = "1", ["MaxDev"] = "100" });
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal("3 days / 5", await DevInstancesAsync(projectId));
        Assert.DoesNotContain(await AuditAsync(projectId), a => a.Action == "project.instance_settings");
    }
}
