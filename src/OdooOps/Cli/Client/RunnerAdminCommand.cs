using System.CommandLine;
using OdooOps.Orgs;
using OdooOps.Runners.Admin;

namespace OdooOps.Cli.Client;

/// <summary>
/// `odooops runners list|token|tokens|revoke-token|disable|enable|hosting`: an org's runners over the REST API with the stored
/// token (`odooops runner`, singular, is the runner itself).
/// </summary>
internal static class RunnerAdminCommand
{
    public static Command Create()
    {
        var runners = new Command("runners", "See an organisation's build runners; admins add (token), disable and enable them (needs `odooops login`).");
        runners.Add(List());
        runners.Add(Token());
        runners.Add(Tokens());
        runners.Add(RevokeToken());
        runners.Add(SetDisabled("disable", true));
        runners.Add(SetDisabled("enable", false));
        runners.Add(RunnerHostingCommand.Create());
        return runners;
    }

    static Option<string?> OrgOption() =>
        ProjectsCommand.OrgOption("The organisation's slug or id (default: your only one).");

    static Command List()
    {
        var org = OrgOption();
        var json = ProjectsCommand.JsonOption();
        var command = new Command("list", $"The organisation's runners and the shared ones; online means seen within {RunnerAdminStore.OnlineSeconds} s.") { org, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var o = await ResolveOrgAsync(api, parse.GetValue(org), ct);
            var list = await api.GetAsync<RunnerAdminApi.RunnerList>($"api/ops/orgs/{o.Id}/runners", ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(list); return 0; }
            ConsoleOutput.Table(["runner", "name", "owner", "state", "running", "instances", "labels", "version", "last seen"],
                list.Runners.Select(r => (IReadOnlyList<string?>)[
                    r.Id.ToString(), r.Name, r.Shared ? "shared" : o.Slug, State(r), $"{r.RunningBuilds}/{r.Capacity}",
                    r.ServesInstances ? $"{r.InstancesPlaced}/{r.InstanceCapacity}" : "builds only",
                    r.Labels.Length == 0 ? "—" : string.Join(",", r.Labels), r.Version ?? "—", r.LastSeenAt is null ? "never" : ConsoleOutput.Ago(r.LastSeenAt)]));
            if (list.Runners.Count == 0) Console.Error.WriteLine($"No runners for {o.Slug}: an admin adds one with `odooops runners token --org {o.Slug}`.");
            return 0;
        }));
        return command;
    }

    static string State(RunnerInfo r) => r.Disabled ? "disabled" : r.Online ? "online" : "offline";

    static Command Token()
    {
        var org = OrgOption();
        var hours = new Option<int?>("--expires-in-hours")
            { Description = $"How long the token may register runners (1–{RunnerAdmin.MaxExpiresInHours}, default {RunnerAdmin.DefaultExpiresInHours})." };
        var json = ProjectsCommand.JsonOption();
        var command = new Command("token",
            "Create a registration token (org owners and admins); it is printed once, alone on stdout, with the command to run on the runner's host on stderr.")
            { org, hours, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            if (parse.GetValue(hours) is < 1 or > RunnerAdmin.MaxExpiresInHours)
                throw new ArgumentException($"--expires-in-hours must be between 1 and {RunnerAdmin.MaxExpiresInHours}.");
            using var api = ApiClient.FromConfig();
            var o = await ResolveOrgAsync(api, parse.GetValue(org), ct);
            var token = await api.PostAsync<NewRegistrationToken>($"api/ops/orgs/{o.Id}/runner-tokens",
                new RunnerAdminApi.CreateRegistrationToken(parse.GetValue(hours)), ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(token); return 0; }
            // The token alone on stdout, so `TOKEN=$(odooops runners token …)` works; the how-to goes to stderr.
            Console.Error.WriteLine($"Created a runner registration token for {o.Slug}, valid until {token.ExpiresAt:yyyy-MM-dd HH:mm} UTC. It is shown once.");
            Console.Error.WriteLine("On the runner's host, run:");
            Console.Error.WriteLine($"  {token.RegisterCommand}");
            Console.WriteLine(token.Token);
            return 0;
        }));
        return command;
    }

    static Command Tokens()
    {
        var org = OrgOption();
        var json = ProjectsCommand.JsonOption();
        var command = new Command("tokens", "The organisation's registration tokens (never the tokens themselves), newest first.") { org, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var o = await ResolveOrgAsync(api, parse.GetValue(org), ct);
            var list = await api.GetAsync<RunnerAdminApi.RegistrationTokenList>($"api/ops/orgs/{o.Id}/runner-tokens", ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(list); return 0; }
            ConsoleOutput.Table(["token", "status", "created", "by", "expires", "last used"],
                list.Tokens.Select(t => (IReadOnlyList<string?>)[
                    t.Id.ToString(), t.Status, ConsoleOutput.Ago(t.CreatedAt), t.CreatedByEmail ?? "—",
                    t.ExpiresAt is { } e ? $"{e:yyyy-MM-dd HH:mm} UTC" : "never", t.UsedAt is null ? "never" : ConsoleOutput.Ago(t.UsedAt)]));
            if (list.Tokens.Count == 0) Console.Error.WriteLine($"No registration tokens in {o.Slug}.");
            return 0;
        }));
        return command;
    }

    static Command RevokeToken()
    {
        var id = new Argument<Guid>("ID") { Description = "The registration token's id (see `odooops runners tokens`)." };
        var org = OrgOption();
        var command = new Command("revoke-token", "Revoke a registration token: it registers no more runners; those it registered keep working.") { id, org };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var o = await ResolveOrgAsync(api, parse.GetValue(org), ct);
            var tokenId = parse.GetValue(id);
            try { await api.DeleteAsync($"api/ops/orgs/{o.Id}/runner-tokens/{tokenId}", ct); }
            catch (ApiException e) when (e.Status == System.Net.HttpStatusCode.NotFound)
            {
                throw new ApiException(e.Status, $"No registration token {tokenId} in {o.Slug}.");
            }
            Console.WriteLine($"Registration token {tokenId} is revoked.");
            return 0;
        }));
        return command;
    }

    static Command SetDisabled(string verb, bool disable)
    {
        var runner = new Argument<string>("RUNNER") { Description = "The runner's id, or its name when no other runner has it." };
        var org = OrgOption();
        var json = ProjectsCommand.JsonOption();
        var command = new Command(verb, disable
            ? "Disable a runner (org owners and admins): its token is refused and the builds it holds are re-queued."
            : "Enable a disabled runner again (org owners and admins).") { runner, org, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var o = await ResolveOrgAsync(api, parse.GetValue(org), ct);
            var target = await ResolveRunnerAsync(api, o, parse.GetValue(runner)!, ct);
            var after = await api.PostAsync<RunnerInfo>($"api/ops/orgs/{o.Id}/runners/{target.Id}/{verb}", new { }, ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(after); return 0; }
            Console.WriteLine(disable
                ? $"Runner {after.Name} ({after.Id}) is disabled: its token is refused and the builds it held are re-queued."
                : $"Runner {after.Name} ({after.Id}) is enabled.");
            return 0;
        }));
        return command;
    }

    /// <summary>The org named by slug or id among the caller's, or the only one when none is named.</summary>
    public static async Task<OrgMembership> ResolveOrgAsync(ApiClient api, string? slugOrId, CancellationToken ct)
    {
        var orgs = (await api.GetAsync<OrgsApi.OrgList>("api/ops/orgs", ct)).Orgs;
        if (slugOrId is null)
            return orgs.Count switch
            {
                1 => orgs[0],
                0 => throw new ArgumentException("You belong to no organisation."),
                _ => throw new ArgumentException($"--org is required: you belong to {orgs.Count} organisations ({string.Join(", ", orgs.Select(o => o.Slug))})."),
            };
        return orgs.FirstOrDefault(o => Guid.TryParse(slugOrId, out var id) ? o.Id == id : o.Slug == slugOrId)
               ?? throw new ArgumentException($"No organisation '{slugOrId}' among yours ({string.Join(", ", orgs.Select(o => o.Slug))}).");
    }

    public static async Task<RunnerInfo> ResolveRunnerAsync(ApiClient api, OrgMembership org, string idOrName, CancellationToken ct)
    {
        var runners = (await api.GetAsync<RunnerAdminApi.RunnerList>($"api/ops/orgs/{org.Id}/runners", ct)).Runners;
        if (Guid.TryParse(idOrName, out var id))
            return runners.FirstOrDefault(r => r.Id == id) ?? throw new ArgumentException($"No runner {id} in {org.Slug} or among the shared ones.");
        var named = runners.Where(r => r.Name == idOrName).ToList();
        return named.Count switch
        {
            1 => named[0],
            0 => throw new ArgumentException($"No runner named '{idOrName}' in {org.Slug}: see odooops runners list --org {org.Slug}."),
            _ => throw new ArgumentException($"{named.Count} runners are named '{idOrName}': give the id (see odooops runners list)."),
        };
    }
}
