using System.Net;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Api;

/// <summary>
/// Every endpoint × every role × own org / other org / anonymous: the status, and for every refusal that nothing
/// changed. Own-org calls succeed exactly from the endpoint's least role upwards (403 below it); the other org's
/// resources do not exist for the caller (404, or 400 naming the field for a body reference); anonymous is 401.
/// </summary>
public sealed class CrossTenantMatrixTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    /// <param name="MinRole">Least role of org A that succeeds on A's resources.</param>
    /// <param name="Prepare">Makes the target for one call (fresh resources for destructive calls) and returns path and body.</param>
    public sealed record Endpoint(string Name, string Method, string MinRole, HttpStatusCode Success, HttpStatusCode OtherOrg,
        Func<ApiWorld, ApiWorld.Tenant, Task<(string Path, object? Body)>> Prepare);

    static readonly Endpoint[] Endpoints =
    [
        new("get project", "GET", "viewer", HttpStatusCode.OK, HttpStatusCode.NotFound, async (w, t) => ($"/api/ops/projects/{t.ProjectId}", null)),
        new("create project", "POST", "admin", HttpStatusCode.Created, HttpStatusCode.BadRequest,
            async (w, t) => ("/api/ops/projects", new { org_id = t.OrgId, name = "New", slug = w.Unique("new"), repo_url = "https://example.com/x.git" })),
        new("update project", "PATCH", "admin", HttpStatusCode.OK, HttpStatusCode.NotFound, async (w, t) => ($"/api/ops/projects/{t.ProjectId}", new { name = w.Unique("Renamed") })),
        new("delete project", "DELETE", "admin", HttpStatusCode.NoContent, HttpStatusCode.NotFound, async (w, t) => ($"/api/ops/projects/{await w.NewProjectAsync(t)}", null)),
        new("list branches", "GET", "viewer", HttpStatusCode.OK, HttpStatusCode.NotFound, async (w, t) => ($"/api/ops/projects/{t.ProjectId}/branches", null)),
        new("create branch", "POST", "developer", HttpStatusCode.Created, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/projects/{t.ProjectId}/branches", new { name = w.Unique("feature"), stage = "development" })),
        new("move branch to staging", "POST", "developer", HttpStatusCode.OK, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/projects/{t.ProjectId}/branches/{await w.NewBranchAsync(t.ProjectId)}/stage", new { stage = "staging" })),
        new("move branch to production", "POST", "admin", HttpStatusCode.OK, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/projects/{t.ProjectId}/branches/{await w.NewBranchAsync(t.ProjectId, "staging")}/stage", new { stage = "production" })),
        new("archive branch", "DELETE", "developer", HttpStatusCode.NoContent, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/projects/{t.ProjectId}/branches/{await w.NewBranchAsync(t.ProjectId)}", null)),
        new("list builds", "GET", "viewer", HttpStatusCode.OK, HttpStatusCode.NotFound, async (w, t) => ($"/api/ops/projects/{t.ProjectId}/builds", null)),
        new("get build", "GET", "viewer", HttpStatusCode.OK, HttpStatusCode.NotFound, async (w, t) => ($"/api/ops/builds/{t.BuildId}", null)),
        new("build logs", "GET", "viewer", HttpStatusCode.OK, HttpStatusCode.NotFound, async (w, t) => ($"/api/ops/builds/{t.BuildId}/logs", null)),
        new("build log stream", "GET", "viewer", HttpStatusCode.OK, HttpStatusCode.NotFound, async (w, t) => ($"/api/ops/builds/{t.BuildId}/logs/stream", null)),
        new("build steps", "GET", "viewer", HttpStatusCode.OK, HttpStatusCode.NotFound, async (w, t) => ($"/api/ops/builds/{t.BuildId}/steps", null)),
        new("build modules", "GET", "viewer", HttpStatusCode.OK, HttpStatusCode.NotFound, async (w, t) => ($"/api/ops/builds/{t.BuildId}/modules", null)),
        // Production builds: a tester may not cancel or rebuild them (developer is the least role).
        new("cancel build", "POST", "developer", HttpStatusCode.OK, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/builds/{await w.NewBuildAsync(t, "queued")}/cancel", null)),
        new("rebuild", "POST", "developer", HttpStatusCode.Accepted, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/builds/{await w.NewBuildAsync(t, "failed")}/rebuild", null)),
        new("list instances", "GET", "viewer", HttpStatusCode.OK, HttpStatusCode.NotFound, async (w, t) => ($"/api/ops/projects/{t.ProjectId}/instances", null)),
        new("get instance", "GET", "viewer", HttpStatusCode.OK, HttpStatusCode.NotFound, async (w, t) => ($"/api/ops/instances/{await w.NewProductionInstanceAsync(t)}", null)),
        new("instance logs", "GET", "viewer", HttpStatusCode.OK, HttpStatusCode.NotFound, async (w, t) => ($"/api/ops/instances/{await w.NewProductionInstanceAsync(t)}/logs", null)),
        // Production instances: a tester may not stop or restart them (developer is the least role).
        new("restart instance", "POST", "developer", HttpStatusCode.Accepted, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/instances/{await w.NewProductionInstanceAsync(t)}/restart", null)),
        new("stop instance", "POST", "developer", HttpStatusCode.Accepted, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/instances/{await w.NewProductionInstanceAsync(t)}/stop", null)),
        new("list org members", "GET", "viewer", HttpStatusCode.OK, HttpStatusCode.NotFound, async (w, t) => ($"/api/ops/orgs/{t.OrgId}/members", null)),
        new("add org member (invites)", "POST", "admin", HttpStatusCode.Accepted, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/orgs/{t.OrgId}/members", new { email = await w.NewUserEmailAsync(), role = "viewer" })),
        new("list org invitations", "GET", "admin", HttpStatusCode.OK, HttpStatusCode.NotFound, async (w, t) => ($"/api/ops/orgs/{t.OrgId}/invitations", null)),
        new("withdraw org invitation", "DELETE", "admin", HttpStatusCode.NoContent, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/orgs/{t.OrgId}/invitations/{await w.NewInvitationAsync(t, null)}", null)),
        new("change org member role", "PATCH", "admin", HttpStatusCode.OK, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/orgs/{t.OrgId}/members/{await w.NewOrgMemberAsync(t)}", new { role = "developer" })),
        new("remove org member", "DELETE", "admin", HttpStatusCode.NoContent, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/orgs/{t.OrgId}/members/{await w.NewOrgMemberAsync(t)}", null)),
        new("list project members", "GET", "viewer", HttpStatusCode.OK, HttpStatusCode.NotFound, async (w, t) => ($"/api/ops/projects/{t.ProjectId}/members", null)),
        new("add project member (invites)", "POST", "admin", HttpStatusCode.Accepted, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/projects/{t.ProjectId}/members", new { email = await w.NewUserEmailAsync(), role = "developer" })),
        new("add org colleague to project", "POST", "admin", HttpStatusCode.Created, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/projects/{t.ProjectId}/members", new { email = await w.NewOrgMemberEmailAsync(t), role = "developer" })),
        new("list project invitations", "GET", "admin", HttpStatusCode.OK, HttpStatusCode.NotFound, async (w, t) => ($"/api/ops/projects/{t.ProjectId}/invitations", null)),
        new("withdraw project invitation", "DELETE", "admin", HttpStatusCode.NoContent, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/projects/{t.ProjectId}/invitations/{await w.NewInvitationAsync(t, t.ProjectId)}", null)),
        new("change project member role", "PATCH", "admin", HttpStatusCode.OK, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/projects/{t.ProjectId}/members/{await w.NewProjectMemberAsync(t)}", new { role = "tester" })),
        new("remove project member", "DELETE", "admin", HttpStatusCode.NoContent, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/projects/{t.ProjectId}/members/{await w.NewProjectMemberAsync(t)}", null)),
        new("audit log", "GET", "admin", HttpStatusCode.OK, HttpStatusCode.NotFound, async (w, t) => ($"/api/ops/orgs/{t.OrgId}/audit", null)),
        new("webhook settings", "GET", "admin", HttpStatusCode.OK, HttpStatusCode.NotFound, async (w, t) => ($"/api/ops/projects/{t.ProjectId}/webhook", null)),
        new("rotate webhook secret", "POST", "admin", HttpStatusCode.OK, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/projects/{t.ProjectId}/webhook/rotate", null)),
        new("project instance settings", "GET", "viewer", HttpStatusCode.OK, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/projects/{t.ProjectId}/instance-settings", null)),
        new("set project instance settings", "PUT", "admin", HttpStatusCode.OK, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/projects/{t.ProjectId}/instance-settings", new { max_dev_instances = 4 })),
        new("branch instance settings", "GET", "viewer", HttpStatusCode.OK, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/projects/{t.ProjectId}/branches/{await w.BranchAsync(t.ProjectId, "feature-x")}/instance-settings", null)),
        new("size a development instance", "PUT", "developer", HttpStatusCode.OK, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/projects/{t.ProjectId}/branches/{await w.NewBranchAsync(t.ProjectId)}/instance-settings", new { workers = 2 })),
        new("branch host", "GET", "viewer", HttpStatusCode.OK, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/projects/{t.ProjectId}/branches/{await w.BranchAsync(t.ProjectId, "staging")}/host", null)),
        new("move a branch to another host", "POST", "admin", HttpStatusCode.OK, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/projects/{t.ProjectId}/branches/{await w.NewBranchAsync(t.ProjectId, "staging")}/host",
                new { runner_id = await NewRunnerAsync(w, t) })),
        // A development branch's domains: testers may manage them (not a production branch's: see DomainsApiTests).
        new("list domains", "GET", "viewer", HttpStatusCode.OK, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/projects/{t.ProjectId}/branches/{(await w.NewDomainAsync(t)).Branch}/domains", null)),
        new("add domain", "POST", "tester", HttpStatusCode.Created, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/projects/{t.ProjectId}/branches/{await w.NewBranchAsync(t.ProjectId)}/domains", new { name = w.Unique("new") + ".example.test" })),
        new("remove domain", "DELETE", "tester", HttpStatusCode.NoContent, HttpStatusCode.NotFound,
            async (w, t) => await w.NewDomainAsync(t) is var (b, d) ? ($"/api/ops/projects/{t.ProjectId}/branches/{b}/domains/{d}", null) : default),
        new("check domain", "POST", "tester", HttpStatusCode.OK, HttpStatusCode.NotFound,
            async (w, t) => await w.NewDomainAsync(t) is var (b, d) ? ($"/api/ops/projects/{t.ProjectId}/branches/{b}/domains/{d}/check", null) : default),
        // Deployments: the history is everyone's; rolling production back is an admin's, staging a developer's; the deploy
        // plan (the server fetches the repository with the project's credential) is for those who may build the branch.
        new("list deployments", "GET", "viewer", HttpStatusCode.OK, HttpStatusCode.NotFound, async (w, t) => ($"/api/ops/projects/{t.ProjectId}/deployments", null)),
        new("get deployment", "GET", "viewer", HttpStatusCode.OK, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/deployments/{(await NewReleasesAsync(w, t, null))[0].DeploymentId}", null)),
        new("roll production back", "POST", "admin", HttpStatusCode.Accepted, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/deployments/{(await NewReleasesAsync(w, t, null))[0].DeploymentId}/rollback", new { })),
        new("roll staging back", "POST", "developer", HttpStatusCode.Accepted, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/deployments/{(await NewReleasesAsync(w, t, "staging"))[0].DeploymentId}/rollback", new { })),
        new("deploy plan", "GET", "developer", HttpStatusCode.OK, HttpStatusCode.NotFound,
            async (w, t) => await Deployments.DeployPlanRepo.NewProjectAsync(w, t) is var p ? ($"/api/ops/projects/{p.Project}/branches/{p.Main}/deploy-plan", null) : default),
        // Backups: production's are admins' (the customer's data), a development branch's testers'.
        new("list backups", "GET", "viewer", HttpStatusCode.OK, HttpStatusCode.NotFound, async (w, t) => ($"/api/ops/projects/{t.ProjectId}/backups", null)),
        new("get backup", "GET", "viewer", HttpStatusCode.OK, HttpStatusCode.NotFound, async (w, t) => ($"/api/ops/backups/{await ProductionBackupAsync(w, t)}", null)),
        new("back up a development branch", "POST", "tester", HttpStatusCode.Accepted, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/projects/{t.ProjectId}/branches/{(await HostedBranchAsync(w, t)).Id}/backups", null)),
        new("back up production", "POST", "admin", HttpStatusCode.Accepted, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/projects/{t.ProjectId}/branches/{(await HostedProductionAsync(w, t)).Id}/backups", null)),
        new("restore into a development branch", "POST", "tester", HttpStatusCode.Accepted, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/backups/{await ProductionBackupAsync(w, t)}/restore", new { branch_id = (await HostedBranchAsync(w, t)).Id })),
        new("restore into production", "POST", "admin", HttpStatusCode.Accepted, HttpStatusCode.NotFound,
            async (w, t) => await HostedProductionAsync(w, t) is var p
                ? ($"/api/ops/backups/{await ProductionBackupAsync(w, t)}/restore", new { branch_id = p.Id, confirm = p.Name }) : default),
        new("verify a production backup", "POST", "admin", HttpStatusCode.Accepted, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/backups/{await ProductionBackupAsync(w, t)}/verify", null)),
        new("download a production backup", "POST", "admin", HttpStatusCode.OK, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/backups/{await ProductionBackupAsync(w, t)}/download", null)),
        new("import into a development branch", "POST", "tester", HttpStatusCode.Accepted, HttpStatusCode.NotFound,
            async (w, t) => ($"/api/ops/projects/{t.ProjectId}/branches/{(await HostedBranchAsync(w, t)).Id}/backups/import", ZipBody())),
    ];

    /// <summary>The tenant's production branch (whichever it is now) with a host, and no restore into it waiting.</summary>
    static async Task<(Guid Id, string Name)> HostedProductionAsync(ApiWorld w, ApiWorld.Tenant t)
    {
        await using var conn = await Accounts.OpenAsync(w.Factory.Owner);
        var (id, name) = await Dapper.SqlMapper.QuerySingleAsync<(Guid, string)>(conn,
            "select id, name from ops.branches where project_id = @ProjectId and is_production", t);
        await Backups.BackupRows.HostAsync(w.Factory.Owner, t.ProjectId, name);
        await Dapper.SqlMapper.ExecuteAsync(conn,
            "update ops.runner_tasks set status = 'cancelled', finished_at = now() where branch_id = @id and kind = 'restore' and status in ('queued', 'running')", new { id });
        return (id, name);
    }

    /// <summary>A stored, succeeded backup of the tenant's production branch (a pre-deploy one: the manual ones' quota stays free).</summary>
    static async Task<Guid> ProductionBackupAsync(ApiWorld w, ApiWorld.Tenant t) =>
        await Backups.BackupRows.InsertAsync(w.Factory.Owner, (await HostedProductionAsync(w, t)).Id, new(Kind: "pre-deploy"));

    static Task<(Guid Id, string Name)> HostedBranchAsync(ApiWorld w, ApiWorld.Tenant t) => Backups.BackupRows.NewHostedBranchAsync(w.Factory.Owner, t.ProjectId);

    static ByteArrayContent ZipBody()
    {
        var content = new ByteArrayContent(Backups.Storage.BackupZips.Odoos("select 1;"));
        content.Headers.ContentType = new("application/zip");
        return content;
    }

    /// <summary>Two releases of the tenant's production branch (whichever it is now) or of a new branch of <paramref name="stage"/>.</summary>
    static async Task<Deployments.DeploymentRows.Release[]> NewReleasesAsync(ApiWorld w, ApiWorld.Tenant t, string? stage)
    {
        await using var conn = await Accounts.OpenAsync(w.Factory.Owner);
        var branch = stage is null
            ? await Dapper.SqlMapper.ExecuteScalarAsync<string>(conn, "select name from ops.branches where project_id = @ProjectId and is_production", t)
            : await Dapper.SqlMapper.ExecuteScalarAsync<string>(conn, "select name from ops.branches where id = @id", new { id = await w.NewBranchAsync(t.ProjectId, stage) });
        var runner = await Deployments.DeploymentRows.RunnerAsync(w.Factory.Owner, t.OrgId, w.Unique("matrix-runner"));
        return [await Deployments.DeploymentRows.ReleaseAsync(w.Factory.Owner, t.ProjectId, branch!, runner),
                await Deployments.DeploymentRows.ReleaseAsync(w.Factory.Owner, t.ProjectId, branch!, runner)];
    }

    /// <summary>A runner of the tenant's organisation that serves instances (the owner makes it: ops_app writes no runner).</summary>
    static async Task<Guid> NewRunnerAsync(ApiWorld w, ApiWorld.Tenant t)
    {
        await using var conn = await Accounts.OpenAsync(w.Factory.Owner);
        return await Dapper.SqlMapper.ExecuteScalarAsync<Guid>(conn,
            "insert into ops.runners (org_id, name, token_hash) values (@OrgId, @name, sha256(gen_random_uuid()::text::bytea)) returning id",
            new { t.OrgId, name = w.Unique("matrix-host") });
    }

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var e in Endpoints)
        {
            foreach (var role in ApiWorld.Roles) { data.Add(e.Name, $"own:{role}"); data.Add(e.Name, $"other:{role}"); }
            data.Add(e.Name, "anonymous");
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Endpoint_answers_by_role_and_tenant(string endpoint, string actor)
    {
        var e = Endpoints.Single(x => x.Name == endpoint);
        var parts = actor.Split(':');
        var target = parts[0] == "other" ? world.B : world.A;
        var role = parts.Length > 1 ? parts[1] : null;
        var (path, body) = await e.Prepare(world, target);
        var before = await world.FingerprintAsync();

        using var request = new HttpRequestMessage(new HttpMethod(e.Method), path);
        if (body is not null) request.Content = body as HttpContent ?? ApiWorld.Body(body);
        var response = await world.Client(role).SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        var expected = role is null ? HttpStatusCode.Unauthorized
            : parts[0] == "other" ? e.OtherOrg
            : Rank(role) >= Rank(e.MinRole) ? e.Success : HttpStatusCode.Forbidden;
        Assert.True(expected == response.StatusCode, $"{e.Method} {path} as {actor}: expected {(int)expected}, got {(int)response.StatusCode} {text}");
        if (!response.IsSuccessStatusCode)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(before, await world.FingerprintAsync());
            if (parts[0] == "other") Assert.DoesNotContain(world.B.OrgSlug, text);
        }
    }

    [Theory]
    [InlineData("owner"), InlineData("viewer")]
    public async Task Lists_never_show_the_other_org(string role)
    {
        var client = world.Client(role);
        foreach (var path in new[] { "/api/ops/projects", "/api/ops/orgs", "/api/ops/me", "/api/ops/tokens" })
        {
            var text = await client.GetStringAsync(path);
            Assert.DoesNotContain(world.B.ProjectId.ToString(), text);
            Assert.DoesNotContain(world.B.OrgId.ToString(), text);
        }
        Assert.Contains(world.A.ProjectId.ToString(), await client.GetStringAsync("/api/ops/projects"));
    }

    static int Rank(string role) => Array.IndexOf(ApiWorld.Roles.Reverse().ToArray(), role) + 1;
}
