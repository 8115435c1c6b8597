using System.Text.Json;
using Dapper;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Api;

/// <summary>
/// Two organisations on one server: A with a user in every role, B with an owner. Each has a project with
/// main/staging/feature-x branches and a build. Clients carry personal access tokens.
/// </summary>
public sealed class ApiWorld(PostgresCluster cluster) : IAsyncLifetime
{
    public static readonly string[] Roles = ["owner", "admin", "developer", "tester", "viewer"];
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public OdooOpsFactory Factory { get; private set; } = null!;
    public Tenant A { get; private set; } = null!;
    public Tenant B { get; private set; } = null!;
    public Dictionary<string, string> Tokens { get; } = [];
    int _counter;

    public sealed record Tenant(Guid OrgId, string OrgSlug, Guid ProjectId, Guid BuildId, Guid OwnerId);

    public async ValueTask InitializeAsync()
    {
        // No lease rescue every 30 s either: it would show the tests' instances (on runners that never sync) as
        // unknown at a moment the clock picks, between a request's before and after fingerprints.
        Factory = await OdooOpsFactory.CreateAsync(cluster, settings: new Dictionary<string, string?> { ["OPS_JOB_runner_rescue"] = "0 0 29 2 *" });
        A = await CreateTenantAsync("a");
        B = await CreateTenantAsync("b");
        foreach (var role in Roles)
        {
            var id = role == "owner" ? A.OwnerId : await Accounts.CreateUserAsync(Factory.Owner, $"{role}@a.test", A.OrgId, role);
            Tokens[role] = await Accounts.CreateTokenAsync(Factory.Owner, id);
        }
        Tokens["b-owner"] = await Accounts.CreateTokenAsync(Factory.Owner, B.OwnerId);
    }

    async Task<Tenant> CreateTenantAsync(string name)
    {
        var org = await Accounts.CreateOrgAsync(Factory.Owner, $"org-{name}");
        var owner = await Accounts.CreateUserAsync(Factory.Owner, $"owner@{name}.test", org, "owner");
        var project = await Accounts.CreateProjectAsync(Factory.Owner, org, $"proj-{name}");
        await using var conn = await Accounts.OpenAsync(Factory.Owner);
        var build = await conn.ExecuteScalarAsync<Guid>("""
            insert into ops.builds (project_id, branch_id, status, trigger, commit_sha)
            select project_id, id, 'success', 'push', 'abc123' from ops.branches where project_id = @project and name = 'main'
            returning id
            """, new { project });
        return new Tenant(org, $"org-{name}", project, build, owner);
    }

    public HttpClient Client(string? actor)
    {
        var client = Factory.CreateClient(new() { AllowAutoRedirect = false });
        return actor is null ? client : client.WithToken(Tokens[actor]);
    }

    public string Unique(string prefix) => $"{prefix}-{Interlocked.Increment(ref _counter)}";

    public async Task<Guid> BranchAsync(Guid projectId, string name)
    {
        await using var conn = await Accounts.OpenAsync(Factory.Owner);
        return await conn.ExecuteScalarAsync<Guid>("select id from ops.branches where project_id = @projectId and name = @name", new { projectId, name });
    }

    public async Task<Guid> NewBranchAsync(Guid projectId, string stage = "development")
    {
        await using var conn = await Accounts.OpenAsync(Factory.Owner);
        return await conn.ExecuteScalarAsync<Guid>(
            "insert into ops.branches (project_id, name, stage, is_production) values (@projectId, @name, @stage, false) returning id",
            new { projectId, name = Unique("br"), stage });
    }

    /// <summary>A build of the tenant's production branch (whichever it is now) with a commit of its own (so no dedupe meets it).</summary>
    public async Task<Guid> NewBuildAsync(Tenant t, string status)
    {
        await using var conn = await Accounts.OpenAsync(Factory.Owner);
        return await conn.ExecuteScalarAsync<Guid>("""
            insert into ops.builds (project_id, branch_id, status, trigger, commit_sha, finished_at)
            select project_id, id, @status, 'push', @sha, case when @status in ('queued', 'running') then null else now() end
              from ops.branches where project_id = @ProjectId and is_production -- other tests promote other branches
            returning id
            """, new { t.ProjectId, status, sha = $"{Interlocked.Increment(ref _counter):x8}" });
    }

    /// <summary>A running instance of the tenant's production branch, whichever it is now (the branch's current one from now on).</summary>
    public async Task<Guid> NewProductionInstanceAsync(Tenant t)
    {
        await using var conn = await Accounts.OpenAsync(Factory.Owner);
        var branch = await conn.ExecuteScalarAsync<string>("select name from ops.branches where project_id = @ProjectId and is_production", t);
        return await Instances.InstanceRows.InsertAsync(Factory.Owner, t.ProjectId, branch!);
    }

    public async Task<Guid> NewProjectAsync(Tenant t) => await Accounts.CreateProjectAsync(Factory.Owner, t.OrgId, Unique("p"));

    public async Task<Guid> NewOrgMemberAsync(Tenant t, string role = "viewer") =>
        await Accounts.CreateUserAsync(Factory.Owner, $"{Unique("m")}@x.test", t.OrgId, role);

    public async Task<Guid> NewProjectMemberAsync(Tenant t)
    {
        var user = await Accounts.CreateUserAsync(Factory.Owner, $"{Unique("pm")}@x.test");
        await using var conn = await Accounts.OpenAsync(Factory.Owner);
        await conn.ExecuteAsync("insert into ops.project_members (project_id, user_id, role) values (@ProjectId, @user, 'viewer')", new { t.ProjectId, user });
        return user;
    }

    /// <summary>A viewer of the tenant's organisation, by email.</summary>
    public async Task<string> NewOrgMemberEmailAsync(Tenant t)
    {
        var email = $"{Unique("om")}@x.test";
        await Accounts.CreateUserAsync(Factory.Owner, email, t.OrgId, "viewer");
        return email;
    }

    /// <summary>An open invitation to the tenant's organisation (or to one of its projects), made as the owner.</summary>
    public async Task<Guid> NewInvitationAsync(Tenant t, Guid? projectId)
    {
        await using var conn = await Accounts.OpenAsync(Factory.Owner);
        return await conn.ExecuteScalarAsync<Guid>("""
            insert into ops.member_invitations (org_id, project_id, email, role, expires_at)
            values (@OrgId, @projectId, @email, 'viewer', now() + interval '1 day') returning id
            """, new { t.OrgId, projectId, email = $"{Unique("inv")}@x.test" });
    }

    public async Task<string> NewUserEmailAsync()
    {
        var email = $"{Unique("u")}@x.test";
        await Accounts.CreateUserAsync(Factory.Owner, email);
        return email;
    }

    /// <summary>A custom domain (unverified) on a new development branch of the project; its branch and id.</summary>
    public async Task<(Guid Branch, Guid Domain)> NewDomainAsync(Tenant t)
    {
        var branch = await NewBranchAsync(t.ProjectId);
        await using var conn = await Accounts.OpenAsync(Factory.Owner);
        var domain = await conn.ExecuteScalarAsync<Guid>(
            "insert into ops.instance_domains (project_id, branch_id, name) values (@ProjectId, @branch, @name) returning id",
            new { t.ProjectId, branch, name = Unique("shop") + ".example.test" });
        return (branch, domain);
    }

    /// <summary>
    /// A digest of every row that an API call could change (token use times excluded: reads update them; so is the
    /// built-in system project, which the server's scheduled advisory scan creates whenever its 5-minute tick comes, and
    /// so are daily backups and their tasks, which the backup_schedule job queues whenever its tick comes).
    /// </summary>
    public async Task<string> FingerprintAsync()
    {
        await using var conn = await Accounts.OpenAsync(Factory.Owner);
        return await conn.ExecuteScalarAsync<string>("""
            -- One line per table: a difference names the table that changed.
            select concat_ws(E'\n',
                'projects ' || coalesce(md5((select string_agg(t::text, ',' order by t.id) from ops.projects t where t.id <> ops.system_project_id())), '-'),
                'branches ' || coalesce(md5((select string_agg(t::text, ',' order by t.id) from ops.branches t)), '-'),
                'builds ' || coalesce(md5((select string_agg(t::text, ',' order by t.id) from ops.builds t)), '-'),
                'instances ' || coalesce(md5((select string_agg(t::text, ',' order by t.id) from ops.instances t)), '-'),
                'org_members ' || coalesce(md5((select string_agg(t::text, ',' order by t.org_id, t.user_id) from registry.org_members t)), '-'),
                'project_members ' || coalesce(md5((select string_agg(t::text, ',' order by t.project_id, t.user_id) from ops.project_members t where t.project_id <> ops.system_project_id())), '-'),
                'api_tokens ' || coalesce(md5((select string_agg(concat_ws(':', id, name, scope, revoked_at), ',' order by id) from ops.api_tokens)), '-'),
                'orgs ' || coalesce(md5((select string_agg(t::text, ',' order by t.id) from registry.orgs t where t.id <> ops.system_org_id())), '-'),
                'project_webhooks ' || coalesce(md5((select string_agg(t::text, ',' order by t.project_id) from ops_private.project_webhooks t)), '-'),
                'member_invitations ' || coalesce(md5((select string_agg(t::text, ',' order by t.id) from ops.member_invitations t)), '-'),
                'instance_domains ' || coalesce(md5((select string_agg(t::text, ',' order by t.id) from ops.instance_domains t)), '-'),
                'deployments ' || coalesce(md5((select string_agg(t::text, ',' order by t.id) from ops.deployments t)), '-'),
                'backups ' || coalesce(md5((select string_agg(t::text, ',' order by t.id) from ops.backups t where t.kind <> 'daily')), '-'),
                'runner_tasks ' || coalesce(md5((select string_agg(t::text, ',' order by t.id) from ops.runner_tasks t
                  where not exists (select 1 from ops.backups k where k.id = t.backup_id and k.kind = 'daily'))), '-'))
            """) ?? "";
    }

    public static StringContent Body(object body) =>
        new(JsonSerializer.Serialize(body, Json), System.Text.Encoding.UTF8, "application/json");

    public async ValueTask DisposeAsync() => await Factory.DisposeAsync();
}
