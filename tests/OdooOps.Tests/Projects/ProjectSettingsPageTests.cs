using System.Net;
using System.Text.RegularExpressions;
using OdooOps.Tests.Ui;
using static OdooOps.Tests.Webhooks.HookRequests;

namespace OdooOps.Tests.Projects;

/// <summary>
/// /app/projects/{slug}/settings over HTTP (in-memory server, session cookies): admins change the general settings, rotate
/// the webhook secret (shown once) and set the runner labels through antiforgery-protected forms, each change audited as
/// the API audits it; bad input changes nothing; lower roles see the values only; other tenants find no project.
/// </summary>
public sealed partial class ProjectSettingsPageTests(ConsoleWorld world) : IClassFixture<ConsoleWorld>
{
    [Fact]
    public async Task An_admin_changes_name_repository_and_version_with_a_project_update_audit_row()
    {
        var (projectId, slug) = await world.NewProjectAsync();
        var admin = await world.ClientAsync("admin");
        var page = WebUtility.HtmlDecode(await admin.GetStringAsync(Url(slug)));
        Assert.Contains($"value=\"Project {slug}\"", ConsoleWorld.FieldBlock(page, "name"));
        Assert.Contains("value=\"https://example.com/odoo.git\"", ConsoleWorld.FieldBlock(page, "repo_url"));
        Assert.Contains("value=\"19.0\"", ConsoleWorld.FieldBlock(page, "runtime_version"));
        Assert.Contains($"class=\"tab active\" href=\"app/projects/{slug}/settings\"", page);

        var response = await ConsoleWorld.PostFormAsync(admin, Url(slug), "project-general",
            General("  Renamed ERP ", slug, "git@github.com:acme/erp.git", "saas-18.3"));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"{Url(slug)}?saved=general", response.Headers.Location?.PathAndQuery);
        var row = await RowAsync(projectId);
        Assert.Equal(("Renamed ERP", slug, "git@github.com:acme/erp.git", "saas-18.3"), (row.Name, row.Slug, row.RepoUrl, row.RuntimeVersion));
        var update = Assert.Single(await AuditAsync(projectId), a => a.Action == "project.update");
        Assert.Equal("admin@a.test", update.Email);
        Assert.Contains("\"repo_url\": \"https://example.com/odoo.git\"", update.Before);
        Assert.Contains("\"repo_url\": \"git@github.com:acme/erp.git\"", update.After);
        var after = WebUtility.HtmlDecode(await admin.GetStringAsync($"{Url(slug)}?saved=general"));
        Assert.Contains("The project's settings are saved.", after);
        Assert.Contains("value=\"Renamed ERP\"", ConsoleWorld.FieldBlock(after, "name"));
        Assert.Contains("Renamed ERP · Odoo saas-18.3", after);
    }

    [Fact]
    public async Task A_new_slug_moves_the_page_and_a_taken_one_is_refused_on_its_field()
    {
        var (projectId, slug) = await world.NewProjectAsync();
        var (_, taken) = await world.NewProjectAsync();
        var owner = await world.ClientAsync("owner");

        var refused = await ConsoleWorld.PostFormAsync(owner, Url(slug), "project-general", General("Same", taken, "https://example.com/odoo.git", "19.0"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.Contains($"The slug &#x27;{taken}&#x27; is already used in this organisation.", ConsoleWorld.FieldBlock(await refused.Content.ReadAsStringAsync(), "slug"));
        Assert.Equal(slug, (await RowAsync(projectId)).Slug);

        var moved = world.Unique("moved");
        var response = await ConsoleWorld.PostFormAsync(owner, Url(slug), "project-general", General("Same", moved, "https://example.com/odoo.git", "19.0"));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"{Url(moved)}?saved=general", response.Headers.Location?.PathAndQuery);
        Assert.Equal(moved, (await RowAsync(projectId)).Slug);
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync(Url(moved))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync(Url(slug))).StatusCode);
        Assert.Equal(["project.update"], (await AuditAsync(projectId)).Select(a => a.Action).Where(a => a != "webhook.view"));
    }

    [Fact]
    public async Task Invalid_general_settings_get_their_messages_next_to_the_fields_and_change_nothing()
    {
        var (projectId, slug) = await world.NewProjectAsync();
        var before = await RowAsync(projectId);
        var admin = await world.ClientAsync("admin");

        var response = await ConsoleWorld.PostFormAsync(admin, Url(slug), "project-general", General("", "Bad Slug!", "not a repo", "nineteen"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("Name is required.", ConsoleWorld.FieldBlock(html, "name"));
        Assert.Contains("Slug must be lower-case letters, digits and dashes", ConsoleWorld.FieldBlock(html, "slug"));
        Assert.Contains("Repository URL must be a git URL", ConsoleWorld.FieldBlock(html, "repo_url"));
        Assert.Contains("Odoo version must be an Odoo version such as 19.0", ConsoleWorld.FieldBlock(html, "runtime_version"));
        Assert.DoesNotContain("Repository URL must", ConsoleWorld.FieldBlock(html, "name"));
        Assert.Contains("value=\"not a repo\"", ConsoleWorld.FieldBlock(html, "repo_url")); // what was typed is kept
        Assert.Contains("aria-invalid=\"true\"", ConsoleWorld.FieldBlock(html, "repo_url"));
        Assert.DoesNotContain("are saved", html);

        // One bad field is enough to change nothing, the good ones included.
        var oneBad = await ConsoleWorld.PostFormAsync(admin, Url(slug), "project-general", General("Good name", slug, "ftp://nope", "19.0"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, oneBad.StatusCode);
        Assert.Contains("Repository URL must be a git URL", ConsoleWorld.FieldBlock(await oneBad.Content.ReadAsStringAsync(), "repo_url"));
        Assert.Equal(before, await RowAsync(projectId));
        Assert.DoesNotContain(await AuditAsync(projectId), a => a.Action == "project.update");
    }

    [Fact]
    public async Task An_admin_rotates_the_webhook_secret_which_is_shown_once_and_replaces_the_old_one()
    {
        var (projectId, slug) = await world.NewProjectAsync();
        const string old = "0123456789abcdef0123456789abcdef0123456789abcdef";
        await world.ExecuteAsync("insert into ops_private.project_webhooks (project_id, secret, rotated_at) values (@projectId, @old, now() - interval '3 days')",
            new { projectId, old });
        var admin = await world.ClientAsync("admin");
        var page = await admin.GetStringAsync(Url(slug));
        Assert.Contains($"<code class=\"hook-url\" data-hook=\"github\">http://localhost/hooks/github/{projectId}</code>", page);
        Assert.Contains($"<code class=\"hook-url\" data-hook=\"gitlab\">http://localhost/hooks/gitlab/{projectId}</code>", page);
        Assert.Contains("data-secret-set=\"true\"", page);
        Assert.Contains("3 days ago", page);
        Assert.DoesNotContain(old, page);

        var response = await ConsoleWorld.PostFormAsync(admin, Url(slug), "rotate-webhook-secret", new() { ["Rotate"] = "yes" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString());
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("This is the only time the secret is shown", html);
        var secret = Regex.Match(html, "<code class=\"token-value webhook-secret\"[^>]*>([0-9a-f]{64})</code>").Groups[1].Value;
        Assert.Matches("^[0-9a-f]{64}$", secret);
        Assert.Contains("just now", html);
        Assert.True(await world.ScalarAsync<bool>("select rotated_at > now() - interval '1 minute' from ops_private.project_webhooks where project_id = @projectId", new { projectId }));

        // The old secret stops verifying at once, the new one works; the page never shows the secret again.
        var hooks = world.Anonymous();
        var push = GitHubPush("refs/heads/main", Sha('c'));
        Assert.Equal(HttpStatusCode.Unauthorized, (await GitHubAsync(hooks, projectId, old, push)).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await GitHubAsync(hooks, projectId, secret, push)).Status);
        var again = await admin.GetStringAsync(Url(slug));
        Assert.DoesNotContain(secret, again);
        Assert.Empty(Secrets().Matches(again));

        // Audited as the API audits: a view per showing, the rotation once, and never the secret.
        var audit = await AuditAsync(projectId);
        Assert.Equal(["webhook.view", "webhook.view", "webhook.rotate", "webhook.view"], audit.Select(a => a.Action));
        Assert.DoesNotContain(audit, a => $"{a.Before}{a.After}".Contains(secret) || $"{a.Before}{a.After}".Contains(old));
    }

    [Fact]
    public async Task A_project_without_a_secret_says_so_and_the_first_rotation_makes_one()
    {
        var (projectId, slug) = await world.NewProjectAsync();
        var owner = await world.ClientAsync("owner");
        Assert.Contains("data-secret-set=\"false\"", await owner.GetStringAsync(Url(slug)));

        var response = await ConsoleWorld.PostFormAsync(owner, Url(slug), "rotate-webhook-secret", new() { ["Rotate"] = "yes" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("data-secret-set=\"true\"", await response.Content.ReadAsStringAsync());
        Assert.Equal(1L, await world.ScalarAsync<long>("select count(*) from ops_private.project_webhooks where project_id = @projectId", new { projectId }));
    }

    [Fact]
    public async Task An_admin_sets_and_clears_the_runner_labels_with_audit_rows()
    {
        var (projectId, slug) = await world.NewProjectAsync();
        var admin = await world.ClientAsync("admin");

        var response = await ConsoleWorld.PostFormAsync(admin, Url(slug), "runner-labels", new() { ["Labels"] = " odoo19, big-memory ,, odoo19" });

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"{Url(slug)}?saved=labels", response.Headers.Location?.PathAndQuery);
        Assert.Equal(["big-memory", "odoo19"], await LabelsAsync(projectId));
        var page = await admin.GetStringAsync($"{Url(slug)}?saved=labels");
        Assert.Contains("The runner labels are saved", page);
        Assert.Contains("value=\"big-memory, odoo19\"", ConsoleWorld.FieldBlock(page, "labels"));

        Assert.Equal(HttpStatusCode.Redirect, (await ConsoleWorld.PostFormAsync(admin, Url(slug), "runner-labels", new() { ["Labels"] = "" })).StatusCode);
        Assert.Empty(await LabelsAsync(projectId));

        var audit = (await AuditAsync(projectId)).Where(a => a.Action == "project.runner_labels").ToList();
        Assert.Equal(2, audit.Count);
        Assert.Equal("{\"labels\": []}", audit[0].Before);
        Assert.Equal("{\"labels\": [\"big-memory\", \"odoo19\"]}", audit[0].After);
        Assert.Equal("{\"labels\": []}", audit[1].After);
    }

    [Fact]
    public async Task A_bad_label_gets_its_message_and_changes_nothing()
    {
        var (projectId, slug) = await world.NewProjectAsync();
        await world.ExecuteAsync("update ops.projects set runner_labels = '{odoo19}' where id = @projectId", new { projectId });
        var admin = await world.ClientAsync("admin");

        var response = await ConsoleWorld.PostFormAsync(admin, Url(slug), "runner-labels", new() { ["Labels"] = "odoo19, Big Memory" });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var field = WebUtility.HtmlDecode(ConsoleWorld.FieldBlock(await response.Content.ReadAsStringAsync(), "labels"));
        Assert.Contains("Labels: at most 32, each lower-case letters, digits, '.', '_' or '-' (at most 63). Not accepted: “Big Memory”.", field);
        Assert.Contains("value=\"odoo19, Big Memory\"", field);
        Assert.Equal(["odoo19"], await LabelsAsync(projectId));
        Assert.DoesNotContain(await AuditAsync(projectId), a => a.Action == "project.runner_labels");
    }

    [Fact]
    public async Task Posts_without_the_antiforgery_token_are_refused_and_change_nothing()
    {
        var (projectId, slug) = await world.NewProjectAsync();
        var before = await RowAsync(projectId);
        var admin = await world.ClientAsync("admin");

        var general = await ConsoleWorld.PostFormAsync(admin, Url(slug), "project-general", General("Forged", slug, "https://example.com/f.git", "18.0"), withToken: false);
        var labels = await ConsoleWorld.PostFormAsync(admin, Url(slug), "runner-labels", new() { ["Labels"] = "forged" }, withToken: false);
        var rotate = await ConsoleWorld.PostFormAsync(admin, Url(slug), "rotate-webhook-secret", new() { ["Rotate"] = "yes" }, withToken: false);

        Assert.Equal(HttpStatusCode.BadRequest, general.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, labels.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, rotate.StatusCode);
        Assert.Empty(Secrets().Matches(await rotate.Content.ReadAsStringAsync()));
        Assert.Equal(before, await RowAsync(projectId));
        Assert.Empty(await LabelsAsync(projectId));
        Assert.Equal(0L, await world.ScalarAsync<long>("select count(*) from ops_private.project_webhooks where project_id = @projectId", new { projectId }));
        Assert.DoesNotContain(await AuditAsync(projectId), a => a.Action is "project.update" or "project.runner_labels" or "webhook.rotate");
    }

    [Theory]
    [InlineData("developer")]
    [InlineData("tester")]
    [InlineData("viewer")]
    public async Task Lower_roles_see_the_values_without_forms_or_webhook_and_cannot_post(string role)
    {
        var (projectId, slug) = await world.NewProjectAsync();
        await world.ExecuteAsync("update ops.projects set runner_labels = '{odoo19}' where id = @projectId", new { projectId });
        var before = await RowAsync(projectId);
        var client = await world.ClientAsync(role);

        var response = await client.GetAsync(Url(slug));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.Contains($"<dd data-fact=\"name\">Project {slug}</dd>", html);
        Assert.Contains("https://example.com/odoo.git", html);
        Assert.Contains("data-labels=\"odoo19\"", html);
        Assert.Contains($"you are a {role}.", html);
        foreach (var form in new[] { "project-general", "runner-labels", "rotate-webhook-secret" })
            Assert.DoesNotContain($"value=\"{form}\"", html);
        Assert.DoesNotContain("name=\"Input.Name\"", html);
        Assert.DoesNotContain("id=\"webhooks\"", html);
        Assert.DoesNotContain("/hooks/", html);
        Assert.DoesNotContain(await AuditAsync(projectId), a => a.Action == "webhook.view");

        // Hand-made posts (with a valid token, from the sign-out form) find no form of that name on their page: refused
        // before any handler runs, as on the projects page; nothing changes.
        var general = await ConsoleWorld.PostFormAsync(client, Url(slug), "project-general", General("Sneaky", slug, "https://example.com/s.git", "18.0"));
        var labels = await ConsoleWorld.PostFormAsync(client, Url(slug), "runner-labels", new() { ["Labels"] = "sneaky" });
        var rotate = await ConsoleWorld.PostFormAsync(client, Url(slug), "rotate-webhook-secret", new() { ["Rotate"] = "yes" });
        Assert.Equal(HttpStatusCode.BadRequest, general.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, labels.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, rotate.StatusCode);
        Assert.Equal(before, await RowAsync(projectId));
        Assert.Equal(["odoo19"], await LabelsAsync(projectId));
        Assert.Equal(0L, await world.ScalarAsync<long>("select count(*) from ops_private.project_webhooks where project_id = @projectId", new { projectId }));
        Assert.Empty(await AuditAsync(projectId));
    }

    [Fact]
    public async Task Another_tenant_gets_404_and_nothing_of_the_project_nor_a_change()
    {
        var (projectId, slug) = await world.NewProjectAsync(world.OrgA);
        await world.ExecuteAsync("update ops.projects set name = 'Secret ERP of A', repo_url = 'https://git.a.test/secret.git' where id = @projectId", new { projectId });
        var before = await RowAsync(projectId);
        var b = await world.ClientAsync("b-owner");

        foreach (var url in new[] { Url(slug), $"{Url(slug)}?org=org-a" })
        {
            var response = await b.GetAsync(url);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            var html = await response.Content.ReadAsStringAsync();
            Assert.Contains("Project not found", html);
            Assert.DoesNotContain("Secret ERP of A", html);
            Assert.DoesNotContain("git.a.test", html);
            Assert.DoesNotContain(projectId.ToString(), html);
        }
        foreach (var (handler, fields) in new (string, Dictionary<string, string>)[]
                 {
                     ("project-general", General("Taken over", slug, "https://evil.test/x.git", "18.0")),
                     ("runner-labels", new() { ["Labels"] = "evil" }),
                     ("rotate-webhook-secret", new() { ["Rotate"] = "yes" }),
                 })
        {
            // The page has no form for them (and no token): the token comes from their projects page.
            var form = new Dictionary<string, string>(fields)
            {
                ["_handler"] = handler, ["__RequestVerificationToken"] = ConsoleWorld.TokenOf(await b.GetStringAsync("/app/projects")),
            };
            var post = await b.PostAsync(Url(slug), new FormUrlEncodedContent(form));
            Assert.Equal(HttpStatusCode.NotFound, post.StatusCode);
            Assert.Empty(Secrets().Matches(await post.Content.ReadAsStringAsync()));
        }
        Assert.Equal(before, await RowAsync(projectId));
        Assert.Empty(await LabelsAsync(projectId));
        Assert.Equal(0L, await world.ScalarAsync<long>("select count(*) from ops_private.project_webhooks where project_id = @projectId", new { projectId }));
        Assert.Empty(await AuditAsync(projectId));

        var anonymous = await world.Anonymous().GetAsync(Url(slug));
        Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
        Assert.StartsWith("/login?returnUrl=", anonymous.Headers.Location?.PathAndQuery);
    }

    [Fact]
    public async Task The_project_tabs_link_to_the_settings()
    {
        var (project, slug) = await world.NewProjectAsync();
        var build = await OdooOps.Tests.Builds.TestRunner.QueueAsync(world.Factory.Owner, project, "main");
        var viewer = await world.ClientAsync("viewer");
        foreach (var url in new[] { $"/app/projects/{slug}/branches", $"/app/projects/{slug}/builds", $"/app/projects/{slug}/builds/{build}" })
            Assert.Contains($"<a class=\"tab\" href=\"app/projects/{slug}/settings\">Settings</a>", await viewer.GetStringAsync(url));
    }
}
