using System.Net;
using System.Text.Json;
using Dapper;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Projects;

/// <summary>
/// /api/ops/projects/{id}/instance-settings: members read a development instance's lifetime and how many run at once;
/// project admins change them (audited, only a change); lower roles get 403, another tenant 404, bad values a 400 naming
/// the field, and none of them changes anything.
/// </summary>
public sealed class InstanceSettingsApiTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    static string Path(Guid project) => $"/api/ops/projects/{project}/instance-settings";

    async Task<(double Minutes, int Max)> StoredAsync(Guid project)
    {
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        return await conn.QuerySingleAsync<(double, int)>(
            "select extract(epoch from dev_instance_ttl)::float8 / 60, max_dev_instances from ops.projects where id = @project", new { project });
    }

    async Task<List<(string Before, string After)>> AuditAsync(Guid project)
    {
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        return [.. await conn.QueryAsync<(string, string)>(
            "select before::text, after::text from ops.audit_log where project_id = @project and action = 'project.instance_settings' order by id", new { project })];
    }

    [Fact]
    public async Task Members_read_the_defaults_and_another_tenant_or_nobody_reads_nothing()
    {
        var project = await world.NewProjectAsync(world.A);
        var answer = await world.Client("viewer").GetStringAsync(Path(project));
        Assert.Equal("""{"dev_ttl_hours":72,"max_dev_instances":5}""", answer);

        Assert.Equal(HttpStatusCode.NotFound, (await world.Client("b-owner").GetAsync(Path(project))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await world.Client(null).GetAsync(Path(project))).StatusCode);
    }

    [Theory]
    [InlineData("owner", HttpStatusCode.OK)]
    [InlineData("admin", HttpStatusCode.OK)]
    [InlineData("developer", HttpStatusCode.Forbidden)]
    [InlineData("tester", HttpStatusCode.Forbidden)]
    [InlineData("viewer", HttpStatusCode.Forbidden)]
    [InlineData("b-owner", HttpStatusCode.NotFound)]
    public async Task Only_project_admins_change_them_with_one_audit_row(string actor, HttpStatusCode expected)
    {
        var project = await world.NewProjectAsync(world.A);
        var response = await world.Client(actor).PutAsync(Path(project), ApiWorld.Body(new { dev_ttl_hours = 24, max_dev_instances = 2 }));

        Assert.Equal(expected, response.StatusCode);
        if (expected != HttpStatusCode.OK)
        {
            Assert.Equal((72 * 60.0, 5), await StoredAsync(project));
            Assert.Empty(await AuditAsync(project));
            return;
        }
        Assert.Equal("""{"dev_ttl_hours":24,"max_dev_instances":2}""", await response.Content.ReadAsStringAsync());
        Assert.Equal((24 * 60.0, 2), await StoredAsync(project));
        // The same values again change nothing and write no second row.
        Assert.Equal(HttpStatusCode.OK, (await world.Client(actor).PutAsync(Path(project), ApiWorld.Body(new { dev_ttl_hours = 24 }))).StatusCode);
        var row = Assert.Single(await AuditAsync(project));
        Assert.Equal(("""{"dev_ttl_hours": 72, "max_dev_instances": 5}""", """{"dev_ttl_hours": 24, "max_dev_instances": 2}"""), row);
    }

    [Fact]
    public async Task One_setting_alone_leaves_the_other_and_ten_minutes_is_the_shortest_lifetime()
    {
        var project = await world.NewProjectAsync(world.A);
        var admin = world.Client("admin");
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsync(Path(project), ApiWorld.Body(new { max_dev_instances = 0 }))).StatusCode);
        Assert.Equal((72 * 60.0, 0), await StoredAsync(project));

        var shortest = await admin.PutAsync(Path(project), ApiWorld.Body(new { dev_ttl_hours = 10 / 60.0 }));
        Assert.Equal(HttpStatusCode.OK, shortest.StatusCode);
        Assert.Equal("""{"dev_ttl_hours":0.1667,"max_dev_instances":0}""", await shortest.Content.ReadAsStringAsync());
        Assert.Equal((10.0, 0), await StoredAsync(project));
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsync(Path(project), ApiWorld.Body(new { dev_ttl_hours = 2160, max_dev_instances = 100 }))).StatusCode);
        Assert.Equal((90 * 24 * 60.0, 100), await StoredAsync(project));
    }

    [Theory]
    [InlineData("""{"dev_ttl_hours":0.15}""", "dev_ttl_hours")]
    [InlineData("""{"dev_ttl_hours":2161}""", "dev_ttl_hours")]
    [InlineData("""{"dev_ttl_hours":-1,"max_dev_instances":3}""", "dev_ttl_hours")]
    [InlineData("""{"max_dev_instances":-1}""", "max_dev_instances")]
    [InlineData("""{"max_dev_instances":101,"dev_ttl_hours":1}""", "max_dev_instances")]
    [InlineData("""{}""", "dev_ttl_hours")]
    public async Task Bad_values_are_a_400_naming_the_field_and_change_nothing(string body, string field)
    {
        var project = await world.NewProjectAsync(world.A);
        var before = await world.FingerprintAsync();

        var response = await world.Client("owner").PutAsync(Path(project), new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
        using var json = JsonDocument.Parse(text);
        Assert.True(json.RootElement.GetProperty("errors").TryGetProperty(field, out _), text);
        Assert.Equal(before, await world.FingerprintAsync());
        Assert.Equal((72 * 60.0, 5), await StoredAsync(project));
    }
}
