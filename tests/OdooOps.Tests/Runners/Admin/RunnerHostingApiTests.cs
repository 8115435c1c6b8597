using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OdooOps.Runners.Admin;
using OdooOps.Runners.Protocol;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Runners.Admin;

/// <summary>
/// PUT /api/ops/orgs/{orgId}/runners/{runnerId}/instance-hosting and the hosting facts of GET …/runners: org admins
/// switch their runners' hosting and capacity (system administrators the shared ones), audited once per change; lower
/// roles, read tokens, another tenant and bad values change nothing. The list counts every tenant's instances placed on
/// a shared runner without naming them.
/// </summary>
public sealed class RunnerHostingApiTests(RunnerAdminWorld world) : IClassFixture<RunnerAdminWorld>
{
    string HostingPath(Guid runner, Guid? org = null) => $"/api/ops/orgs/{org ?? world.OrgA}/runners/{runner}/instance-hosting";

    async Task<(bool Serves, int Capacity)> StoredAsync(Guid runner) =>
        (await world.ScalarAsync<bool>("select serves_instances from ops.runners where id = @runner", new { runner }),
         await world.ScalarAsync<int>("select instance_capacity from ops.runners where id = @runner", new { runner }));

    /// <summary>An instance of a new build of acme's main branch, placed on the runner (retired: no longer counted).</summary>
    Task<Guid> InstanceAsync(Guid runner, bool retired = false) =>
        world.ScalarAsync<Guid>("""
            with b as (insert into ops.builds (project_id, branch_id, status, trigger, commit_sha, finished_at)
                       select project_id, id, 'success', 'push', md5(random()::text), now() from ops.branches where project_id = @ProjectA and name = 'main'
                       returning id, project_id, branch_id)
            insert into ops.instances (project_id, branch_id, build_id, runner_id, stage, database_name, retired_at)
            select b.project_id, b.branch_id, b.id, @runner, 'production', 'db_' || substr(md5(random()::text), 1, 12), case when @retired then now() end from b
            returning id
            """, new { world.ProjectA, runner, retired });

    [Fact]
    public async Task The_list_shows_hosting_capacity_instances_placed_address_and_last_sync()
    {
        var runner = await world.InsertRunnerAsync(world.OrgA, world.Unique("host"), DateTime.UtcNow);
        await world.ExecuteAsync("update ops.runners set instance_address = '10.0.0.7', instances_seen_at = now() where id = @Id", runner);
        await InstanceAsync(runner.Id);
        await InstanceAsync(runner.Id);
        await InstanceAsync(runner.Id, retired: true);
        var buildsOnly = await world.InsertRunnerAsync(world.OrgA, world.Unique("builder"), DateTime.UtcNow);
        await world.ExecuteAsync("update ops.runners set serves_instances = false where id = @Id", buildsOnly);

        using var viewer = world.Client("viewer");
        var runners = (await viewer.GetFromJsonAsync<RunnerAdminApi.RunnerList>($"/api/ops/orgs/{world.OrgA}/runners", RunnerProtocol.Json))!.Runners;

        var r = runners.Single(x => x.Id == runner.Id);
        Assert.Equal((true, 20, 2, "10.0.0.7"), (r.ServesInstances, r.InstanceCapacity, r.InstancesPlaced, r.InstanceAddress));
        Assert.NotNull(r.InstancesSeenAt);
        var b = runners.Single(x => x.Id == buildsOnly.Id);
        Assert.Equal((false, 0, (string?)null, (DateTime?)null), (b.ServesInstances, b.InstancesPlaced, b.InstanceAddress, b.InstancesSeenAt));
        var raw = await viewer.GetStringAsync($"/api/ops/orgs/{world.OrgA}/runners");
        Assert.Contains("\"serves_instances\":true,\"instance_capacity\":20,\"instances_placed\":2,\"instance_address\":\"10.0.0.7\"", raw);
    }

    [Fact]
    public async Task A_shared_runner_counts_every_tenant_s_instances_for_everyone()
    {
        var shared = await world.InsertRunnerAsync(null, world.Unique("shared-host"), DateTime.UtcNow);
        await InstanceAsync(shared.Id); // acme's

        using var globex = world.Client("b-owner");
        var seen = (await globex.GetFromJsonAsync<RunnerAdminApi.RunnerList>($"/api/ops/orgs/{world.OrgB}/runners", RunnerProtocol.Json))!.Runners;
        Assert.Equal(1, seen.Single(x => x.Id == shared.Id).InstancesPlaced);
    }

    [Theory]
    [InlineData("owner")]
    [InlineData("admin")]
    public async Task An_org_admin_switches_hosting_and_capacity_with_one_audit_row_per_change(string actor)
    {
        var runner = await world.InsertRunnerAsync(world.OrgA, world.Unique("switch"), DateTime.UtcNow);
        using var client = world.Client(actor);

        var off = await client.PutAsJsonAsync(HostingPath(runner.Id), new { serves_instances = false });
        Assert.Equal(HttpStatusCode.OK, off.StatusCode);
        Assert.False((await off.Content.ReadFromJsonAsync<RunnerInfo>(RunnerProtocol.Json))!.ServesInstances);
        Assert.Equal((false, 20), await StoredAsync(runner.Id));

        Assert.Equal(HttpStatusCode.OK, (await client.PutAsJsonAsync(HostingPath(runner.Id), new { serves_instances = true, instance_capacity = 3 })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PutAsJsonAsync(HostingPath(runner.Id), new { instance_capacity = 3 })).StatusCode); // no change
        Assert.Equal((true, 3), await StoredAsync(runner.Id));
        var audit = await world.AuditAsync(runner.Id);
        Assert.Equal(["runner.instance_hosting", "runner.instance_hosting"], audit.Select(a => a.Action));
        Assert.All(audit, a => Assert.Equal(((Guid?)world.OrgA, (Guid?)world.Users[actor]), (a.OrgId, a.ActorUserId)));
        using var last = JsonDocument.Parse(audit[1].Json);
        Assert.Equal(3, last.RootElement.GetProperty("after").GetProperty("instance_capacity").GetInt32());
        Assert.False(last.RootElement.GetProperty("before").GetProperty("serves_instances").GetBoolean());
    }

    [Theory]
    [InlineData("developer", HttpStatusCode.Forbidden)]
    [InlineData("viewer", HttpStatusCode.Forbidden)]
    [InlineData("admin-read", HttpStatusCode.Forbidden)]
    [InlineData("b-owner", HttpStatusCode.NotFound)]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    public async Task Only_acme_admins_change_acme_runners(string? actor, HttpStatusCode expected)
    {
        var runner = await world.InsertRunnerAsync(world.OrgA, world.Unique("guarded-host"), DateTime.UtcNow);
        using var client = world.Client(actor);

        Assert.Equal(expected, (await client.PutAsJsonAsync(HostingPath(runner.Id), new { serves_instances = false, instance_capacity = 0 })).StatusCode);
        Assert.Equal((true, 20), await StoredAsync(runner.Id));
        Assert.Empty(await world.AuditAsync(runner.Id));
    }

    [Fact]
    public async Task Another_tenant_cannot_reach_acme_runners_through_its_own_org()
    {
        var acme = await world.InsertRunnerAsync(world.OrgA, world.Unique("acme-host"), DateTime.UtcNow);
        using var stranger = world.Client("b-owner");
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PutAsJsonAsync(HostingPath(acme.Id, world.OrgB), new { serves_instances = false })).StatusCode);
        Assert.Equal((true, 20), await StoredAsync(acme.Id));
    }

    [Fact]
    public async Task Shared_runners_are_changed_by_system_administrators_only()
    {
        var shared = await world.InsertRunnerAsync(null, world.Unique("shared-switch"), DateTime.UtcNow);
        using var admin = world.Client("admin");
        using var sysadmin = world.Client("sysadmin");

        Assert.Equal(HttpStatusCode.Forbidden, (await admin.PutAsJsonAsync(HostingPath(shared.Id), new { instance_capacity = 1 })).StatusCode);
        Assert.Equal((true, 20), await StoredAsync(shared.Id));
        Assert.Equal(HttpStatusCode.OK, (await sysadmin.PutAsJsonAsync(HostingPath(shared.Id), new { instance_capacity = 1 })).StatusCode);
        Assert.Equal((true, 1), await StoredAsync(shared.Id));
    }

    [Theory]
    [InlineData("""{"instance_capacity":-1}""", "instance_capacity")]
    [InlineData("""{"instance_capacity":1001,"serves_instances":true}""", "instance_capacity")]
    [InlineData("""{}""", "serves_instances")]
    public async Task Bad_values_are_a_400_naming_the_field_and_change_nothing(string body, string field)
    {
        var runner = await world.InsertRunnerAsync(world.OrgA, world.Unique("bad"), DateTime.UtcNow);
        using var admin = world.Client("admin");

        var response = await admin.PutAsync(HostingPath(runner.Id), new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
        using var json = JsonDocument.Parse(text);
        Assert.True(json.RootElement.GetProperty("errors").TryGetProperty(field, out _), text);
        Assert.Equal((true, 20), await StoredAsync(runner.Id));
        Assert.Empty(await world.AuditAsync(runner.Id));
    }
}
