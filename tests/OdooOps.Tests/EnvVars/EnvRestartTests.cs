using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Instances;

namespace OdooOps.Tests.EnvVars;

/// <summary>
/// Which instances need a restart after a change of their stage's variables, with a real runner hosting sandboxed
/// stand-in Odoo servers: decided by the stage's revision and the one the runner started the server with, never by the
/// runner's clock. A runner whose clock runs hours ahead neither hides a needed restart nor, running behind, shows one
/// forever; a server started (a crash restart) after the change but with the variables read before it is still named.
/// The API and the environment page's "Restart to apply" card name the same instances at every step. The stand-in
/// reports STANDIN_ODOO_VERSION as its version (/standin/info): which variables each server really runs with.
/// </summary>
public sealed partial class EnvRestartTests(PostgresCluster cluster) : IAsyncLifetime
{
    const string Variable = "STANDIN_ODOO_VERSION";
    readonly SkewedClock _clock = new();
    InstanceWorld _world = null!;
    HttpClient _api = null!;
    HttpClient _console = null!;

    public async ValueTask InitializeAsync()
    {
        _world = await InstanceWorld.StartAsync(cluster);
        await _world.StartRunnerAsync(h => h with { Clock = _clock });
        _api = await _world.World.OwnerApiAsync();
        var email = $"env-{Guid.NewGuid():N}@example.com";
        await Accounts.CreateUserAsync(_world.World.Owner, email, _world.World.OrgId, "owner");
        _console = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false, UseProxy = false })
            { BaseAddress = _world.World.Url, Timeout = TimeSpan.FromSeconds(60) };
        Assert.Equal(HttpStatusCode.Redirect, (await Accounts.SignInAsync(_console, email)).StatusCode);
    }

    public async ValueTask DisposeAsync()
    {
        _api.Dispose();
        _console.Dispose();
        await _world.DisposeAsync();
    }

    string EnvPath => $"/api/ops/projects/{_world.World.ProjectId}/env";

    /// <summary>Sets production's variable; the instances the answer says need a restart.</summary>
    async Task<List<Guid>> SetAsync(string value)
    {
        var response = await _api.PutAsync($"{EnvPath}/production/{Variable}", ApiWorld.Body(new { value }));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return Ids(JsonDocument.Parse(body).RootElement.GetProperty("restart_needed"));
    }

    static List<Guid> Ids(JsonElement list) => [.. list.EnumerateArray().Select(e => e.GetProperty("instance_id").GetGuid()).Order()];

    /// <summary>The instances needing a restart as the API lists them, checked to be the very ones the page's card offers.</summary>
    async Task<List<Guid>> RestartNeededAsync()
    {
        var api = Ids(JsonDocument.Parse(await _api.GetStringAsync(EnvPath)).RootElement.GetProperty("restart_needed"));
        var html = await _console.GetStringAsync("/app/projects/app/settings/env");
        var card = RestartCard().Match(html);
        List<Guid> page = card.Success ? [.. InstanceIds().Matches(card.Value).Select(m => Guid.Parse(m.Groups[1].Value)).Order()] : [];
        Assert.Equal(api, page);
        return api;
    }

    static async Task<string> VersionAsync(InstanceWorld.InstanceRow row) =>
        (await InstanceWorld.InfoAsync(row.HttpPort!.Value)).GetProperty("version").GetString()!;

    async Task<InstanceWorld.InstanceRow> RestartAsync(InstanceWorld.InstanceRow before, Func<InstanceWorld.InstanceRow, bool> started)
    {
        Assert.Equal(HttpStatusCode.Accepted, (await _api.PostAsync($"/api/ops/instances/{before.Id}/restart", null)).StatusCode);
        return await _world.WaitForInstanceAsync(before.BuildId, i => i.State == "running" && started(i));
    }

    [Fact]
    public async Task A_runner_clock_hours_ahead_or_behind_neither_hides_a_needed_restart_nor_keeps_one_forever()
    {
        _clock.Skew = TimeSpan.FromHours(5);
        var instance = await _world.DeployAsync("main");
        Assert.True(instance.StartedAt > DateTime.UtcNow.AddHours(4), $"started_at {instance.StartedAt:O} is the runner's clock, hours ahead");
        Assert.Empty(await RestartNeededAsync());

        // Ahead: the server started "later" than the change by that clock, yet runs with the variables before it.
        Assert.Equal([instance.Id], await SetAsync("19.0+second"));
        Assert.Equal([instance.Id], await RestartNeededAsync());
        Assert.Equal("19.0", await VersionAsync(instance));
        var ahead = await RestartAsync(instance, i => i.StartedAt > instance.StartedAt);
        Assert.Equal("19.0+second", await VersionAsync(ahead));
        Assert.Empty(await RestartNeededAsync());

        // Behind: every start is "earlier" than the change by that clock, yet the restart took the new variables.
        _clock.Skew = TimeSpan.FromHours(-5);
        Assert.Equal([instance.Id], await SetAsync("19.0+third"));
        var behind = await RestartAsync(ahead, i => i.StartedAt < DateTime.UtcNow.AddHours(-4));
        Assert.Equal("19.0+third", await VersionAsync(behind));
        Assert.Empty(await RestartNeededAsync());
    }

    [Fact]
    public async Task A_server_started_after_a_change_with_the_variables_read_before_it_still_needs_a_restart()
    {
        var instance = await _world.DeployAsync("main");
        Assert.Equal([instance.Id], await SetAsync("19.0+second"));

        // The runner starts the server again (a crash restart) with the variables it was given before the change: by
        // every clock it started after the change, but it runs with the old variables.
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) })
        {
            try { await http.PostAsync($"http://127.0.0.1:{instance.HttpPort}/standin/crash", null); }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { } // the crash may cut the answer
        }
        var crashed = await _world.WaitForInstanceAsync(instance.BuildId, i => i.Restarts == 1 && i.State == "running");
        var changedAt = await InstanceRows.ScalarAsync<DateTime>(_world.World.Owner,
            "select changed_at from ops.env_stage_changes where project_id = @ProjectId and stage = 'production'", new { _world.World.ProjectId });
        Assert.True(crashed.StartedAt > changedAt, $"started {crashed.StartedAt:O}, changed {changedAt:O}");
        Assert.Equal("19.0", await VersionAsync(crashed));
        Assert.Equal([instance.Id], await RestartNeededAsync());

        var restarted = await RestartAsync(crashed, i => i.StartedAt > crashed.StartedAt);
        Assert.Equal("19.0+second", await VersionAsync(restarted));
        Assert.Empty(await RestartNeededAsync());
    }

    /// <summary>The system clock moved by <see cref="Skew"/>: a runner host whose clock is off.</summary>
    sealed class SkewedClock : TimeProvider
    {
        long _ticks;
        public TimeSpan Skew { get => TimeSpan.FromTicks(Interlocked.Read(ref _ticks)); set => Interlocked.Exchange(ref _ticks, value.Ticks); }
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Skew;
    }

    [GeneratedRegex("<section class=\"card alert warning restart-needed\".*?</section>", RegexOptions.Singleline)]
    private static partial Regex RestartCard();

    [GeneratedRegex("data-instance-id=\"([0-9a-f-]{36})\"")]
    private static partial Regex InstanceIds();
}
