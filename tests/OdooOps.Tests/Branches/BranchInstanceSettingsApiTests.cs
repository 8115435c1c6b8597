using System.Net;
using System.Text.Json;
using Dapper;
using Npgsql;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Projects;

namespace OdooOps.Tests.Branches;

/// <summary>
/// /api/ops/projects/{id}/branches/{id}/instance-settings: who may change a branch's instance size is who may write the
/// branch (developer on development and staging, admin on production; tester and viewer never); another tenant gets
/// 404; bad values a 400 naming the field; each change one audit row; nothing else changes on a refusal.
/// </summary>
public sealed class BranchInstanceSettingsApiTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    static string Path(Guid project, Guid branch) => $"/api/ops/projects/{project}/branches/{branch}/instance-settings";

    static readonly object Bigger = new { workers = 4, cron_threads = 2, memory_mb = 4096, cpus = 2.5 };

    async Task<(int Workers, int Cron, int Memory, decimal Cpus)> StoredAsync(Guid branch)
    {
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        return await conn.QuerySingleAsync<(int, int, int, decimal)>(
            "select instance_workers, instance_cron_threads, instance_memory_mb, instance_cpus from ops.branches where id = @branch", new { branch });
    }

    async Task<List<(string Email, string Before, string After)>> AuditAsync(Guid branch)
    {
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        return [.. await conn.QueryAsync<(string, string, string)>("""
            select u.email, a.before::text, a.after::text from ops.audit_log a join registry.users u on u.id = a.actor_user_id
             where a.action = 'branch.instance_settings' and a.target_id = @id order by a.id
            """, new { id = branch.ToString() })];
    }

    [Fact]
    public async Task Members_read_a_branch_s_settings_with_its_defaults_and_strangers_read_nothing()
    {
        var project = await world.NewProjectAsync(world.A);
        var main = await world.BranchAsync(project, "main");
        using var json = JsonDocument.Parse(await world.Client("viewer").GetStringAsync(Path(project, main)));
        var s = json.RootElement;
        Assert.Equal(("main", "production", 0, 1, 2048, 1m), (s.GetProperty("branch").GetString(), s.GetProperty("stage").GetString(),
            s.GetProperty("workers").GetInt32(), s.GetProperty("cron_threads").GetInt32(), s.GetProperty("memory_mb").GetInt32(), s.GetProperty("cpus").GetDecimal()));
        Assert.Equal(JsonValueKind.Null, s.GetProperty("runner_id").ValueKind);

        Assert.Equal(HttpStatusCode.NotFound, (await world.Client("b-owner").GetAsync(Path(project, main))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await world.Client(null).GetAsync(Path(project, main))).StatusCode);
        // A branch of another project, named under this one, is not there either.
        var elsewhere = await world.BranchAsync(world.A.ProjectId, "main");
        Assert.Equal(HttpStatusCode.NotFound, (await world.Client("owner").GetAsync(Path(project, elsewhere))).StatusCode);
    }

    [Theory]
    [InlineData("feature-x", "owner", HttpStatusCode.OK)]
    [InlineData("feature-x", "developer", HttpStatusCode.OK)]
    [InlineData("staging", "developer", HttpStatusCode.OK)]
    [InlineData("feature-x", "tester", HttpStatusCode.Forbidden)]
    [InlineData("feature-x", "viewer", HttpStatusCode.Forbidden)]
    [InlineData("feature-x", "b-owner", HttpStatusCode.NotFound)]
    [InlineData("main", "admin", HttpStatusCode.OK)]
    [InlineData("main", "developer", HttpStatusCode.Forbidden)]
    [InlineData("main", "tester", HttpStatusCode.Forbidden)]
    public async Task Who_may_change_them_is_who_may_write_the_branch(string branchName, string actor, HttpStatusCode expected)
    {
        var project = await world.NewProjectAsync(world.A);
        var branch = await world.BranchAsync(project, branchName);
        var before = await world.FingerprintAsync();

        var response = await world.Client(actor).PutAsync(Path(project, branch), ApiWorld.Body(Bigger));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, text);
        if (expected != HttpStatusCode.OK)
        {
            Assert.Equal(before, await world.FingerprintAsync());
            Assert.Empty(await AuditAsync(branch));
            if (branchName == "main" && actor == "developer") // the policy's refusal, in words naming the role it needs
                Assert.Contains("production branch needs the admin role or higher; you are developer", text);
            return;
        }
        Assert.Equal((4, 2, 4096, 2.5m), await StoredAsync(branch));
        var row = Assert.Single(await AuditAsync(branch));
        Assert.Equal($"{actor}@a.test", row.Email);
        Assert.Equal("""{"cpus": 1.00, "workers": 0, "memory_mb": 2048, "cron_threads": 1}""", row.Before);
        Assert.Equal("""{"cpus": 2.50, "workers": 4, "memory_mb": 4096, "cron_threads": 2}""", row.After);
    }

    [Fact]
    public async Task One_setting_alone_leaves_the_others_and_a_repeat_is_not_audited_again()
    {
        var project = await world.NewProjectAsync(world.A);
        var branch = await world.BranchAsync(project, "staging");
        var developer = world.Client("developer");
        Assert.Equal(HttpStatusCode.OK, (await developer.PutAsync(Path(project, branch), ApiWorld.Body(new { memory_mb = 128 }))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await developer.PutAsync(Path(project, branch), ApiWorld.Body(new { memory_mb = 128 }))).StatusCode);
        Assert.Equal((0, 1, 128, 1m), await StoredAsync(branch));
        Assert.Single(await AuditAsync(branch));
        Assert.Equal(HttpStatusCode.OK, (await developer.PutAsync(Path(project, branch), ApiWorld.Body(new { workers = 64, cron_threads = 0, memory_mb = 262144, cpus = 256 }))).StatusCode);
        Assert.Equal((64, 0, 262144, 256m), await StoredAsync(branch));
    }

    [Theory]
    [InlineData("""{"workers":65}""", "workers")]
    [InlineData("""{"workers":-1}""", "workers")]
    [InlineData("""{"cron_threads":17}""", "cron_threads")]
    [InlineData("""{"memory_mb":127}""", "memory_mb")]
    [InlineData("""{"memory_mb":262145}""", "memory_mb")]
    [InlineData("""{"cpus":0.05}""", "cpus")]
    [InlineData("""{"cpus":256.5}""", "cpus")]
    [InlineData("""{"cpus":1.234}""", "cpus")]
    [InlineData("""{"workers":2,"cpus":0}""", "cpus")]
    [InlineData("""{}""", "workers")]
    public async Task Bad_values_are_a_400_naming_the_field_and_change_nothing(string body, string field)
    {
        var project = await world.NewProjectAsync(world.A);
        var branch = await world.BranchAsync(project, "feature-x");
        var before = await world.FingerprintAsync();

        var response = await world.Client("owner").PutAsync(Path(project, branch), new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
        using var json = JsonDocument.Parse(text);
        Assert.True(json.RootElement.GetProperty("errors").TryGetProperty(field, out _), text);
        Assert.Equal(before, await world.FingerprintAsync());
    }

    [Fact]
    public async Task An_archived_branch_has_no_settings_to_read_or_change()
    {
        var project = await world.NewProjectAsync(world.A);
        var branch = await world.BranchAsync(project, "feature-x");
        await using (var conn = await Accounts.OpenAsync(world.Factory.Owner))
            await conn.ExecuteAsync("update ops.branches set archived_at = now() where id = @branch", new { branch });
        Assert.Equal(HttpStatusCode.NotFound, (await world.Client("owner").GetAsync(Path(project, branch))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await world.Client("owner").PutAsync(Path(project, branch), ApiWorld.Body(Bigger))).StatusCode);
        Assert.Equal((0, 1, 2048, 1m), await StoredAsync(branch));
    }

    /// <summary>The second enforcement: SQL as the request role cannot raise production's size as a developer, nor set any pin.</summary>
    [Fact]
    public async Task Direct_sql_as_the_request_role_cannot_resize_production_as_a_developer_nor_write_a_pin()
    {
        var project = await world.NewProjectAsync(world.A);
        var main = await world.BranchAsync(project, "main");
        var feature = await world.BranchAsync(project, "feature-x");
        var developer = await Accounts.CreateUserAsync(world.Factory.Owner, $"{world.Unique("dev")}@a.test", world.A.OrgId, "developer");
        var owner = world.A.OwnerId;
        Guid runner;
        await using (var conn = await Accounts.OpenAsync(world.Factory.Owner))
            runner = await conn.ExecuteScalarAsync<Guid>(
                "insert into ops.runners (org_id, name, token_hash) values (@OrgId, @name, sha256(gen_random_uuid()::text::bytea)) returning id", new { world.A.OrgId, name = world.Unique("r") });

        await using var app = await RepoCredentialApiTests.RequestRoleAsync(world, developer);
        Assert.Equal(0, await app.ExecuteAsync("update ops.branches set instance_memory_mb = 65536 where id = @main", new { main }));
        Assert.Equal(1, await app.ExecuteAsync("update ops.branches set instance_memory_mb = 1024 where id = @feature", new { feature }));
        await using var asOwner = await RepoCredentialApiTests.RequestRoleAsync(world, owner);
        foreach (var sql in new[]
                 {
                     "update ops.branches set runner_id = @runner where id = @main",
                     "insert into ops.branches (project_id, name, stage, is_production, runner_id) values (@project, 'pinned', 'staging', false, @runner)",
                 })
        {
            var denied = await Assert.ThrowsAsync<PostgresException>(() => asOwner.ExecuteAsync(sql, new { main, runner, project }));
            Assert.Equal("42501", denied.SqlState);
        }
        Assert.Equal((0, 1, 2048, 1m), await StoredAsync(main));
    }
}
