using System.Net;
using System.Text.Json;
using Dapper;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Orgs;

/// <summary>
/// /api/ops/orgs/{id}: members read an organisation's settings; owners and admins change its name, slug and default
/// Odoo version (one org.update audit row), lower roles get 403, another tenant 404, bad values — a slug another
/// organisation holds included — a 400 naming the field, and none of them changes anything. A new project that names no
/// version gets the organisation's default.
/// </summary>
public sealed class OrgSettingsApiTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    string Path => $"/api/ops/orgs/{world.A.OrgId}";

    async Task<string> StoredAsync()
    {
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        return await conn.ExecuteScalarAsync<string>("""
            select concat_ws('|', name, slug, default_odoo_version,
                             (select count(*) from ops.audit_log where action = 'org.update' and org_id = o.id))
              from registry.orgs o where id = @OrgId
            """, new { world.A.OrgId }) ?? "";
    }

    [Theory]
    [InlineData("viewer", HttpStatusCode.OK)]
    [InlineData("owner", HttpStatusCode.OK)]
    [InlineData("b-owner", HttpStatusCode.NotFound)]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    public async Task Members_read_the_settings_and_their_role(string? actor, HttpStatusCode expected)
    {
        var response = await world.Client(actor).GetAsync(Path);
        Assert.Equal(expected, response.StatusCode);
        if (expected != HttpStatusCode.OK) return;
        var org = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal((world.A.OrgSlug, actor), (org.GetProperty("slug").GetString(), org.GetProperty("role").GetString()));
        Assert.Matches(@"^\d+\.\d+$", org.GetProperty("default_odoo_version").GetString());
    }

    [Theory]
    [InlineData("owner", HttpStatusCode.OK)]
    [InlineData("admin", HttpStatusCode.OK)]
    [InlineData("developer", HttpStatusCode.Forbidden)]
    [InlineData("tester", HttpStatusCode.Forbidden)]
    [InlineData("viewer", HttpStatusCode.Forbidden)]
    [InlineData("b-owner", HttpStatusCode.NotFound)]
    public async Task Owners_and_admins_change_them_with_one_audit_row_and_others_change_nothing(string actor, HttpStatusCode expected)
    {
        var name = world.Unique("Org A");
        var before = await StoredAsync();
        var response = await world.Client(actor).PatchAsync(Path, ApiWorld.Body(new { name }));
        Assert.Equal(expected, response.StatusCode);
        if (expected != HttpStatusCode.OK)
        {
            Assert.Equal(before, await StoredAsync());
            return;
        }
        Assert.Equal(name, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("name").GetString());
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        Assert.Equal(name, await conn.ExecuteScalarAsync<string>(
            "select after->>'name' from ops.audit_log where action = 'org.update' and org_id = @OrgId order by id desc limit 1", new { world.A.OrgId }));
        // The same values again change nothing and write no row.
        var audits = await conn.ExecuteScalarAsync<int>("select count(*) from ops.audit_log where action = 'org.update'");
        Assert.Equal(HttpStatusCode.OK, (await world.Client(actor).PatchAsync(Path, ApiWorld.Body(new { name }))).StatusCode);
        Assert.Equal(audits, await conn.ExecuteScalarAsync<int>("select count(*) from ops.audit_log where action = 'org.update'"));
    }

    [Theory]
    [InlineData("""{"name":" "}""", "name")]
    [InlineData("""{"slug":"Not A Slug"}""", "slug")]
    [InlineData("""{"slug":"org-b"}""", "slug")] // tenant B's: slugs are unique across organisations
    [InlineData("""{"default_odoo_version":"twenty"}""", "default_odoo_version")]
    public async Task Bad_values_are_a_400_naming_the_field_and_change_nothing(string body, string field)
    {
        var before = await StoredAsync();
        var response = await world.Client("owner").PatchAsync(Path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
        Assert.True(JsonDocument.Parse(text).RootElement.GetProperty("errors").TryGetProperty(field, out _), text);
        Assert.Equal(before, await StoredAsync());
    }

    [Fact]
    public async Task A_new_project_that_names_no_version_gets_the_organisation_default()
    {
        var owner = world.Client("owner");
        Assert.Equal(HttpStatusCode.OK, (await owner.PatchAsync(Path, ApiWorld.Body(new { default_odoo_version = "17.0" }))).StatusCode);
        try
        {
            async Task<string?> CreateAsync(object body)
            {
                var created = await owner.PostAsync("/api/ops/projects", ApiWorld.Body(body));
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
                return JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("runtime_version").GetString();
            }
            Assert.Equal("17.0", await CreateAsync(new { org_id = world.A.OrgId, name = world.Unique("Legacy"), repo_url = "https://git.example/legacy.git" }));
            Assert.Equal("18.0", await CreateAsync(new { org_id = world.A.OrgId, name = world.Unique("Shop"), repo_url = "https://git.example/shop.git", runtime_version = "18.0" }));
        }
        finally
        {
            await owner.PatchAsync(Path, ApiWorld.Body(new { default_odoo_version = "19.0" }));
        }
    }

    [Fact]
    public async Task A_slug_change_follows_through_to_the_orgs_list()
    {
        var owner = world.Client("owner");
        var renamed = world.Unique("org-a-renamed");
        Assert.Equal(HttpStatusCode.OK, (await owner.PatchAsync(Path, ApiWorld.Body(new { slug = renamed }))).StatusCode);
        try
        {
            Assert.Contains($"\"slug\":\"{renamed}\"", await owner.GetStringAsync("/api/ops/orgs"));
        }
        finally
        {
            Assert.Equal(HttpStatusCode.OK, (await owner.PatchAsync(Path, ApiWorld.Body(new { slug = world.A.OrgSlug }))).StatusCode);
        }
    }
}
