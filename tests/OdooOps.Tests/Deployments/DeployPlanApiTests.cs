using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using OdooOps.Deployments;
using OdooOps.Runners.Agent.Execution;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Instances;
using OdooOps.Tests.Runners;

namespace OdooOps.Tests.Deployments;

/// <summary>
/// GET …/branches/{id}/deploy-plan, the dry run: the server reads the head's manifests (a real git repository, no runner)
/// and compares them with what the branch runs (its last successful build, or a backup restored since), running nothing of the repository — a manifest that is
/// code is refused, not executed, and nothing is queued. Who may build the branch may ask; a branch missing from the
/// repository is a 422, an unreachable repository a 503 with Retry-After that never shows the credential; the fetch is
/// bounded on disk.
/// </summary>
public sealed class DeployPlanApiTests(PostgresCluster cluster) : IAsyncLifetime
{
    RunnerWorld _world = null!;
    readonly string _marker = Path.Combine(Path.GetTempPath(), $"odooops-plan-ran-{Guid.NewGuid():N}");

    public async ValueTask InitializeAsync()
    {
        _world = await RunnerWorld.StartAsync(cluster);
        await _world.Repo.CommitFilesAsync("addons", InstanceWorld.Manifest("sale_extra", "19.0.1.1.0"), InstanceWorld.Manifest("stock_extra", "19.0.1.0.0"),
            ("addons/evil/__manifest__.py", $"{{'name': __import__('os').system('touch {_marker}'), 'version': '1.0'}}"),
            ("requirements.txt", "requests\n"));
        // What main runs now: its last successful build had sale_extra 19.0.1.0.0 only.
        await using var conn = await Accounts.OpenAsync(_world.Owner);
        await conn.ExecuteAsync("""
            insert into ops.builds (project_id, branch_id, status, trigger, commit_sha, finished_at, modules)
            select project_id, id, 'success', 'push', 'abc123', now(),
                   '[{"name": "sale_extra", "path": "addons/sale_extra", "version": "19.0.1.0.0", "installable": true}]'
              from ops.branches where project_id = @ProjectId and name = 'main'
            """, new { _world.ProjectId });
    }

    public async ValueTask DisposeAsync()
    {
        File.Delete(_marker);
        await _world.DisposeAsync();
    }

    async Task<Guid> BranchAsync(string name)
    {
        await using var conn = await Accounts.OpenAsync(_world.Owner);
        return await conn.ExecuteScalarAsync<Guid>("select id from ops.branches where project_id = @ProjectId and name = @name", new { _world.ProjectId, name });
    }

    async Task<HttpClient> ClientAsync(string role)
    {
        var user = await Accounts.CreateUserAsync(_world.Owner, $"{role}-{Guid.NewGuid():N}@example.com", _world.OrgId, role);
        return new HttpClient { BaseAddress = _world.Url }.WithToken(await Accounts.CreateTokenAsync(_world.Owner, user));
    }

    async Task<HttpResponseMessage> PlanAsync(HttpClient client, string branch) =>
        await client.GetAsync($"/api/ops/projects/{_world.ProjectId}/branches/{await BranchAsync(branch)}/deploy-plan");

    static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task The_plan_says_what_a_production_build_would_install_and_update_and_why_without_running_anything()
    {
        await using var conn = await Accounts.OpenAsync(_world.Owner);
        var builds = await conn.ExecuteScalarAsync<int>("select count(*) from ops.builds");
        using var developer = await ClientAsync("developer");
        var plan = await JsonAsync(await PlanAsync(developer, "main"));

        Assert.Equal(await _world.Repo.GitAsync("rev-parse", "main"), plan.GetProperty("commit_sha").GetString());
        Assert.Equal(("main", "production"), (plan.GetProperty("branch").GetString(), plan.GetProperty("stage").GetString()));
        var p = plan.GetProperty("plan");
        var install = Assert.Single(p.GetProperty("install").EnumerateArray());
        Assert.Equal(("stock_extra", "new"), (install.GetProperty("module").GetString(), install.GetProperty("reason").GetString()));
        var update = Assert.Single(p.GetProperty("update").EnumerateArray());
        Assert.Equal(("sale_extra", "version changed 19.0.1.0.0 → 19.0.1.1.0"), (update.GetProperty("module").GetString(), update.GetProperty("reason").GetString()));
        Assert.Contains(plan.GetProperty("summary").EnumerateArray(), l => l.GetString() == "  update  sale_extra: version changed 19.0.1.0.0 → 19.0.1.1.0");
        // The builds table does not keep requirements' digests (yet): an unknown one reads as changed.
        Assert.True(p.GetProperty("requirements_changed").GetBoolean());

        // The manifest that is code was read as text and refused, never run; nothing was queued.
        Assert.Contains(plan.GetProperty("problems").EnumerateArray(), l => l.GetString()!.StartsWith("addons/evil/") && l.GetString()!.Contains("only hold literals"));
        Assert.False(File.Exists(_marker));
        Assert.Equal(builds, await conn.ExecuteScalarAsync<int>("select count(*) from ops.builds"));
    }

    [Fact]
    public async Task After_an_older_backup_is_restored_the_plan_compares_with_what_the_database_holds_again()
    {
        // A backup taken when main's database had sale_extra 19.0.0.9.0 (and stock_extra uninstalled) is restored into main.
        await using (var conn = await Accounts.OpenAsync(_world.Owner))
            await conn.ExecuteAsync("""
                with branch as (select project_id, id from ops.branches where project_id = @ProjectId and name = 'main'),
                     backup as (
                         insert into ops.backups (project_id, branch_id, kind, status, verification, finished_at, modules)
                         select project_id, id, 'manual', 'succeeded', 'verified', now(),
                                '[{"name": "sale_extra", "state": "installed", "version": "19.0.0.9.0"},
                                  {"name": "stock_extra", "state": "uninstalled", "version": null}]'
                           from branch
                         returning id, project_id, branch_id)
                insert into ops.runner_tasks (project_id, branch_id, kind, backup_id, status, finished_at)
                select project_id, branch_id, 'restore', id, 'succeeded', now() + interval '1 second' from backup
                """, new { _world.ProjectId });
        using var developer = await ClientAsync("developer");
        var p = (await JsonAsync(await PlanAsync(developer, "main"))).GetProperty("plan");
        var install = Assert.Single(p.GetProperty("install").EnumerateArray());
        Assert.Equal(("stock_extra", "new"), (install.GetProperty("module").GetString(), install.GetProperty("reason").GetString()));
        var update = Assert.Single(p.GetProperty("update").EnumerateArray());
        Assert.Equal("version changed 19.0.0.9.0 → 19.0.1.1.0", update.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Who_may_build_the_branch_may_ask_and_a_development_build_installs_everything()
    {
        using var viewer = await ClientAsync("viewer");
        var refused = await PlanAsync(viewer, "main");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("needs the developer role or higher", await refused.Content.ReadAsStringAsync());
        using var tester = await ClientAsync("tester");
        Assert.Equal(HttpStatusCode.Forbidden, (await PlanAsync(tester, "main")).StatusCode);

        await _world.Repo.GitAsync("branch", "-f", "feature-x", "main");
        var plan = await JsonAsync(await PlanAsync(tester, "feature-x"));
        Assert.Equal(["sale_extra", "stock_extra"], plan.GetProperty("plan").GetProperty("install").EnumerateArray().Select(c => c.GetProperty("module").GetString()));
        Assert.Equal(JsonValueKind.Null, plan.GetProperty("deployed_build_id").ValueKind);
    }

    [Fact]
    public async Task A_branch_missing_from_the_repository_is_422_and_an_unreachable_one_503_without_the_credential()
    {
        using var owner = await _world.OwnerApiAsync();
        var missing = await PlanAsync(owner, "staging");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Branch staging was not found", await missing.Content.ReadAsStringAsync());

        const string secret = "ghp_plan_secret_0123456789abcdefghij";
        await using (var conn = await Accounts.OpenAsync(_world.Owner))
            await conn.ExecuteAsync("update ops.projects set repo_url = 'https://127.0.0.1:9/acme/erp.git' where id = @ProjectId", new { _world.ProjectId });
        var set = await owner.PutAsJsonAsync($"/api/ops/projects/{_world.ProjectId}/repo-credential", new { kind = "token", secret });
        Assert.True(set.IsSuccessStatusCode, await set.Content.ReadAsStringAsync());
        var down = await PlanAsync(owner, "main");
        var text = await down.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.NotNull(down.Headers.RetryAfter);
        Assert.Contains("not accessible", text);
        Assert.DoesNotContain(secret, text);
    }

    [Fact]
    public async Task The_fetch_is_bounded_on_disk_and_leaves_nothing_behind()
    {
        var scratch = Directory.CreateTempSubdirectory("odooops-scratch-").FullName;
        try
        {
            var e = await Assert.ThrowsAsync<GitCheckoutException>(() =>
                BranchManifests.FetchAsync(_world.Repo.Dir, "main", null, allowLocal: true, CancellationToken.None, maxBytes: 16 * 1024, scratch));
            Assert.Contains("took more than 16 KiB", e.Message);
            var head = await BranchManifests.FetchAsync(_world.Repo.Dir, "main", null, allowLocal: true, CancellationToken.None, scratchRoot: scratch);
            Assert.Contains(head.Scan.Modules, m => m.Name == "stock_extra");
            Assert.Empty(Directory.EnumerateFileSystemEntries(scratch));
        }
        finally { Directory.Delete(scratch, true); }

        var local = await Assert.ThrowsAsync<GitCheckoutException>(() =>
            BranchManifests.FetchAsync(_world.Repo.Dir, "main", null, allowLocal: false, CancellationToken.None));
        Assert.Equal(GitFailure.RepositoryNotAllowed, local.Failure);
    }
}
