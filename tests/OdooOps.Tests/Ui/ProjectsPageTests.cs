using System.Net;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Ui;

/// <summary>/app/projects over HTTP (in-memory server): the list, the "New project" form, its validation and its guards.</summary>
public sealed class ProjectsPageTests(ConsoleWorld world) : IClassFixture<ConsoleWorld>
{
    static Dictionary<string, string> NewProject(string name, string slug, string repo = "https://example.com/acme.git", string version = "19.0") => new()
    {
        ["Input.Name"] = name, ["Input.Slug"] = slug, ["Input.RepoUrl"] = repo, ["Input.RuntimeVersion"] = version,
    };

    Task<long> ProjectCountAsync(Guid org) => world.ScalarAsync<long>("select count(*) from ops.projects where org_id = @org", new { org });

    [Fact]
    public async Task Each_invalid_field_gets_its_message_next_to_it_and_nothing_is_created()
    {
        var owner = await world.ClientAsync("owner");
        var before = await ProjectCountAsync(world.OrgA);

        var response = await ConsoleWorld.PostFormAsync(owner, "/app/projects", "new-project", NewProject("", "Bad Slug!", "not a repo", "nineteen"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("Name is required.", ConsoleWorld.FieldBlock(html, "name"));
        Assert.Contains("Slug must be lower-case letters, digits and dashes", ConsoleWorld.FieldBlock(html, "slug"));
        Assert.Contains("Repository URL must be a git URL", ConsoleWorld.FieldBlock(html, "repo_url"));
        Assert.Contains("Odoo version must be an Odoo version such as 19.0", ConsoleWorld.FieldBlock(html, "runtime_version"));
        // The message is not shown under a field it does not belong to, and what was typed is kept.
        Assert.DoesNotContain("Slug must", ConsoleWorld.FieldBlock(html, "name"));
        Assert.Contains("value=\"Bad Slug!\"", ConsoleWorld.FieldBlock(html, "slug"));
        Assert.Contains("aria-invalid=\"true\"", ConsoleWorld.FieldBlock(html, "slug"));
        Assert.Equal(before, await ProjectCountAsync(world.OrgA));
    }

    [Fact]
    public async Task A_slug_already_used_in_the_org_is_reported_on_the_slug_field()
    {
        var owner = await world.ClientAsync("owner");
        var (_, taken) = await world.NewProjectAsync();

        var response = await ConsoleWorld.PostFormAsync(owner, "/app/projects", "new-project", NewProject("Another", taken));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains($"The slug &#x27;{taken}&#x27; is already used in this organisation.",
            ConsoleWorld.FieldBlock(await response.Content.ReadAsStringAsync(), "slug"));
    }

    [Fact]
    public async Task Creating_a_project_redirects_to_its_branches_and_writes_an_audit_row()
    {
        var admin = await world.ClientAsync("admin");
        var slug = world.Unique("created");

        var response = await ConsoleWorld.PostFormAsync(admin, "/app/projects", "new-project", NewProject("Created here", slug, version: "saas-18.3"));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"/app/projects/{slug}/branches", response.Headers.Location?.AbsolutePath);
        var projectId = await world.ScalarAsync<Guid>("select id from ops.projects where org_id = @OrgA and slug = @slug and runtime_version = 'saas-18.3'", new { world.OrgA, slug });
        Assert.Equal(1L, await world.ScalarAsync<long>("""
            select count(*) from ops.audit_log a join registry.users u on u.id = a.actor_user_id
             where a.action = 'project.create' and a.project_id = @projectId and a.target_id = @target
               and u.email = 'admin@a.test' and a.after ->> 'slug' = @slug
            """, new { projectId, target = projectId.ToString(), slug }));
        var page = await admin.GetAsync(response.Headers.Location);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Created here", await page.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_empty_slug_is_derived_from_the_name()
    {
        var owner = await world.ClientAsync("owner");
        var name = world.Unique("Derived Name");
        var response = await ConsoleWorld.PostFormAsync(owner, "/app/projects", "new-project", NewProject(name, ""));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"/app/projects/{name.ToLowerInvariant().Replace(' ', '-')}/branches", response.Headers.Location?.AbsolutePath);
    }

    [Fact]
    public async Task A_post_without_the_antiforgery_token_is_rejected()
    {
        var owner = await world.ClientAsync("owner");
        var slug = world.Unique("forged");
        var response = await ConsoleWorld.PostFormAsync(owner, "/app/projects", "new-project", NewProject("Forged", slug), withToken: false);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0L, await world.ScalarAsync<long>("select count(*) from ops.projects where slug = @slug", new { slug }));
    }

    [Theory]
    [InlineData("developer")]
    [InlineData("viewer")]
    public async Task Only_owners_and_admins_are_offered_the_form_and_others_are_refused(string role)
    {
        var client = await world.ClientAsync(role);
        var html = await client.GetStringAsync("/app/projects");
        Assert.DoesNotContain("name=\"Input.Name\"", html);
        Assert.Contains($"Only owners and admins of Org org-a can create projects; you are a {role}.", html);
        Assert.Contains("name=\"Input.Name\"", await (await world.ClientAsync("owner")).GetStringAsync("/app/projects"));

        // A hand-made post (with a valid token, taken from the sign-out form) is refused: Blazor finds no form of
        // that name on their page (400); were it offered by mistake, the role check and RLS would still refuse.
        var slug = world.Unique("sneaky");
        var response = await ConsoleWorld.PostFormAsync(client, "/app/projects", "new-project", NewProject("Sneaky", slug));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0L, await world.ScalarAsync<long>("select count(*) from ops.projects where slug = @slug", new { slug }));
    }

    [Fact]
    public async Task The_list_shows_the_orgs_projects_with_status_and_links_and_encodes_names()
    {
        var (projectId, slug) = await world.NewProjectAsync();
        await world.ExecuteAsync("""
            update ops.projects set name = '<script>alert(1)</script>' where id = @projectId;
            insert into ops.builds (project_id, branch_id, status, trigger)
            select project_id, id, 'failed', 'push' from ops.branches where project_id = @projectId and name = 'main';
            """, new { projectId });
        var (_, otherOrgSlug) = await world.NewProjectAsync(world.OrgB);

        var html = await (await world.ClientAsync("viewer")).GetStringAsync("/app/projects");

        var row = System.Text.RegularExpressions.Regex.Match(html, $"<tr data-slug=\"{slug}\">(.*?)</tr>", System.Text.RegularExpressions.RegexOptions.Singleline).Groups[1].Value;
        Assert.Contains($"href=\"app/projects/{slug}\"", row); // the project's overview
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", row);
        Assert.DoesNotContain("<script>alert(1)", html);
        Assert.Contains("class=\"badge danger\" data-status=\"failed\"", row);
        Assert.Matches("<time class=\"relative-time\" datetime=\"[^\"]+\" title=\"\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC\">(just now|\\d+ min ago)</time>", row);
        Assert.DoesNotContain($"data-slug=\"{otherOrgSlug}\"", html);
    }

    [Fact]
    public async Task An_org_without_projects_says_what_to_do_first()
    {
        var html = await (await world.ClientAsync("empty-owner")).GetStringAsync("/app/projects");
        Assert.Contains("Create your first project:", html);
        Assert.Contains("name=\"Input.Name\"", html);
        Assert.DoesNotContain("<table", html);
    }

    [Fact]
    public async Task The_stylesheet_is_served_and_linked()
    {
        var response = await world.Anonymous().GetAsync("/app.css");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/css", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(".topbar", await response.Content.ReadAsStringAsync());
        Assert.Matches("<link rel=\"stylesheet\" href=\"app.css\" ?/?>", await world.Anonymous().GetStringAsync("/login"));
    }
}
