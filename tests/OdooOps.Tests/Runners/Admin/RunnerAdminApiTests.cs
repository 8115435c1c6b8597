using System.Net;
using System.Net.Http.Json;
using OdooOps.Runners.Protocol;
using OdooOps.Runners.Agent;
using OdooOps.Runners.Admin;

namespace OdooOps.Tests.Runners.Admin;

/// <summary>
/// /api/ops/orgs/{orgId}/runners: members see their org's runners and the shared ones, online or not, with the builds
/// they run; admins disable a runner (its token is refused with 401 by the runner API) and enable it again.
/// </summary>
public sealed class RunnerAdminApiTests(RunnerAdminWorld world) : IClassFixture<RunnerAdminWorld>
{
    string RunnersPath(Guid? org = null) => $"/api/ops/orgs/{org ?? world.OrgA}/runners";

    async Task<IReadOnlyList<RunnerInfo>> ListAsync(string actor, Guid? org = null)
    {
        using var client = world.Client(actor);
        return (await client.GetFromJsonAsync<RunnerAdminApi.RunnerList>(RunnersPath(org), RunnerProtocol.Json))!.Runners;
    }

    async Task<HttpStatusCode?> PollAsync(string runnerToken)
    {
        using var runner = new DispatchClient(world.Url, runnerToken);
        try
        {
            await runner.NextAsync(1, 0, CancellationToken.None);
            return null;
        }
        catch (HttpRequestException e) { return e.StatusCode; }
    }

    [Fact]
    public async Task Members_see_their_runners_and_the_shared_ones_with_state_and_load()
    {
        var token = await world.CreateTokenAsync();
        var busy = await world.RegisterAsync(token.Token, world.Unique("busy"), 2, "odoo19", "big");
        var stale = await world.InsertRunnerAsync(world.OrgA, world.Unique("stale"), DateTime.UtcNow.AddMinutes(-5));
        var shared = await world.InsertRunnerAsync(null, world.Unique("shared"), DateTime.UtcNow);
        var theirs = await world.InsertRunnerAsync(world.OrgB, world.Unique("globex-only"), DateTime.UtcNow);
        var build = await world.QueueBuildAsync();
        using (var runner = new DispatchClient(world.Url, busy.Token))
            Assert.Equal(build, Assert.Single(await runner.NextAsync(2, 0, CancellationToken.None)).BuildId);

        var runners = await ListAsync("viewer");

        var b = runners.Single(r => r.Id == busy.RunnerId);
        Assert.Equal((world.OrgA, 2, 1, true, false, false, "9.9.9"), (b.OrgId!.Value, b.Capacity, b.RunningBuilds, b.Online, b.Shared, b.Disabled, b.Version));
        Assert.Equal(["odoo19", "big"], b.Labels);
        Assert.NotNull(b.LastSeenAt);
        var s = runners.Single(r => r.Id == stale.Id);
        Assert.Equal((false, 0, false), (s.Online, s.RunningBuilds, s.Disabled));
        var sh = runners.Single(r => r.Id == shared.Id);
        Assert.Equal((true, true, (Guid?)null), (sh.Shared, sh.Online, sh.OrgId));
        Assert.DoesNotContain(runners, r => r.Id == theirs.Id);
        // The org's own runners come first, the shared ones after.
        Assert.True(runners.ToList().FindIndex(r => r.Shared) > runners.ToList().FindIndex(r => r.Id == stale.Id));

        // The other tenant sees its own and the shared runner, none of acme's; acme's list is not theirs to read.
        var ofB = await ListAsync("b-owner", world.OrgB);
        Assert.Contains(ofB, r => r.Id == theirs.Id);
        Assert.Contains(ofB, r => r.Id == shared.Id);
        Assert.DoesNotContain(ofB, r => r.OrgId == world.OrgA);
        using var stranger = world.Client("b-owner");
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync(RunnersPath())).StatusCode);
        using var anonymous = world.Client(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(RunnersPath())).StatusCode);
    }

    [Fact]
    public async Task A_disabled_runner_gets_401_and_its_builds_go_back_to_the_queue_until_it_is_enabled()
    {
        var registered = await world.RegisterAsync((await world.CreateTokenAsync()).Token, world.Unique("disable-me"));
        var build = await world.QueueBuildAsync();
        using (var runner = new DispatchClient(world.Url, registered.Token))
            Assert.Equal(build, Assert.Single(await runner.NextAsync(1, 0, CancellationToken.None)).BuildId);
        using var admin = world.Client("admin");

        var disabled = await admin.PostAsync($"{RunnersPath()}/{registered.RunnerId}/disable", null);

        Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
        var after = (await disabled.Content.ReadFromJsonAsync<RunnerInfo>(RunnerProtocol.Json))!;
        Assert.True(after.Disabled);
        Assert.NotNull(after.DisabledAt);
        Assert.Equal(HttpStatusCode.Unauthorized, await PollAsync(registered.Token));
        // Its lease ends now: the rescuer's next round re-queues the build.
        Assert.True(await world.ScalarAsync<bool>("select lease_until <= now() from ops.run_queue where build_id = @build", new { build }));
        Assert.True((await ListAsync("viewer")).Single(r => r.Id == registered.RunnerId).Disabled);

        // Twice is fine and logged once.
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"{RunnersPath()}/{registered.RunnerId}/disable", null)).StatusCode);
        var enabled = await admin.PostAsync($"{RunnersPath()}/{registered.RunnerId}/enable", null);

        Assert.Equal(HttpStatusCode.OK, enabled.StatusCode);
        Assert.False((await enabled.Content.ReadFromJsonAsync<RunnerInfo>(RunnerProtocol.Json))!.Disabled);
        Assert.Null(await PollAsync(registered.Token));
        var audit = await world.AuditAsync(registered.RunnerId);
        Assert.Equal(["runner.disable", "runner.enable"], audit.Select(a => a.Action));
        Assert.All(audit, a => Assert.Equal(((Guid?)world.OrgA, (Guid?)world.Users["admin"], "runner"), (a.OrgId, a.ActorUserId, a.TargetType)));
    }

    [Theory]
    [InlineData("developer", HttpStatusCode.Forbidden)]
    [InlineData("viewer", HttpStatusCode.Forbidden)]
    [InlineData("admin-read", HttpStatusCode.Forbidden)]
    [InlineData("b-owner", HttpStatusCode.NotFound)]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    public async Task Only_acme_admins_disable_acme_runners(string? actor, HttpStatusCode expected)
    {
        var runner = await world.InsertRunnerAsync(world.OrgA, world.Unique("guarded"), DateTime.UtcNow);
        using var client = world.Client(actor);

        var response = await client.PostAsync($"{RunnersPath()}/{runner.Id}/disable", null);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Null(await world.ScalarAsync<DateTime?>("select disabled_at from ops.runners where id = @Id", runner));
        Assert.Null(await PollAsync(runner.Token));
        Assert.Empty(await world.AuditAsync(runner.Id));
    }

    [Fact]
    public async Task Another_tenant_cannot_reach_acme_runners_through_its_own_org()
    {
        var acme = await world.InsertRunnerAsync(world.OrgA, world.Unique("acme-runner"), DateTime.UtcNow);
        using var stranger = world.Client("b-owner");

        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsync($"{RunnersPath(world.OrgB)}/{acme.Id}/disable", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsync($"{RunnersPath(world.OrgB)}/{Guid.NewGuid()}/disable", null)).StatusCode);
        Assert.Null(await world.ScalarAsync<DateTime?>("select disabled_at from ops.runners where id = @Id", acme));
    }

    [Fact]
    public async Task Shared_runners_are_disabled_by_system_administrators_only()
    {
        var shared = await world.InsertRunnerAsync(null, world.Unique("shared"), DateTime.UtcNow);
        using var admin = world.Client("admin");
        using var sysadmin = world.Client("sysadmin");

        var refused = await admin.PostAsync($"{RunnersPath()}/{shared.Id}/disable", null);

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Null(await world.ScalarAsync<DateTime?>("select disabled_at from ops.runners where id = @Id", shared));
        Assert.Equal(HttpStatusCode.OK, (await sysadmin.PostAsync($"{RunnersPath()}/{shared.Id}/disable", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, await PollAsync(shared.Token));
        Assert.Equal(HttpStatusCode.Forbidden, (await admin.PostAsync($"{RunnersPath()}/{shared.Id}/enable", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await sysadmin.PostAsync($"{RunnersPath()}/{shared.Id}/enable", null)).StatusCode);
        Assert.Null(await PollAsync(shared.Token));
    }
}
