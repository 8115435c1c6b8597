using System.CommandLine;
using System.Net;
using System.Net.Http.Json;
using OdooOps.Advisories;
using OdooOps.Secrets;

namespace OdooOps.Cli.Client;

/// <summary>
/// `odooops advisories scan` (the seed's scan function, with the shared scan token) and `odooops advisories list`
/// (the REST API with the stored login token; --fail-on gates CI on open advisories).
/// </summary>
internal static class AdvisoriesCommand
{
    /// <summary>scan: the scan ran, but some rules could not (named on stderr; their advisories are unchanged).</summary>
    public const int SomeRulesUnavailable = 2;

    /// <summary>list --fail-on: an open advisory at or above that severity exists.</summary>
    public const int OpenAdvisoriesFound = 3;

    public static Command Create()
    {
        var advisories = new Command("advisories",
            "Run the advisory scan, list advisories, show one with its history, resolve, suppress and un-suppress them. Exit codes: 0 done; 1 error (usage, network, refused token); " +
            $"{SomeRulesUnavailable} scan ran but some rules could not; {OpenAdvisoriesFound} list --fail-on found an open advisory at or above that severity.");
        advisories.Add(Scan());
        advisories.Add(List());
        foreach (var verb in AdvisoryActionsCommand.Create()) advisories.Add(verb);
        return advisories;
    }

    static Command Scan()
    {
        var url = new Option<string?>("--url") { Description = $"The server (default: env {ClientConfig.UrlVariable}, the stored URL, else {ClientConfig.DefaultUrl})." };
        var token = new Option<string?>("--token") { Description = $"The scan token (default: env {OpsSecrets.AdvisoryScanToken}; prefer the environment, flags show in process lists)." };
        var json = ProjectsCommand.JsonOption();
        var command = new Command("scan",
            $"Run every advisory rule over every project now, as POST {AdvisoryScanApi.Route} does for cron. " +
            $"Exit {SomeRulesUnavailable} when some rules could not run.") { url, token, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            var secret = parse.GetValue(token) is { Length: > 0 } given ? given : Environment.GetEnvironmentVariable(OpsSecrets.AdvisoryScanToken);
            if (string.IsNullOrWhiteSpace(secret)) throw new ArgumentException($"no scan token: set {OpsSecrets.AdvisoryScanToken} or give --token.");
            var answer = await PostScanAsync(ClientConfig.Resolve(parse.GetValue(url)).Url, secret, ct);
            if (parse.GetValue(json)) ConsoleOutput.Json(answer);
            else Console.WriteLine($"Scanned {answer.ProjectsScanned} project(s): {answer.AdvisoriesCreated} advisory(ies) created, {answer.AdvisoriesResolved} resolved.");
            if (answer.Unavailable is not { Count: > 0 } unavailable) return 0;
            Console.Error.WriteLine($"warning: these rules could not run, so their advisories were left as they were: {string.Join(", ", unavailable)} (see the server log).");
            return SomeRulesUnavailable;
        }));
        return command;
    }

    /// <summary>The function takes the shared token in its own header, not a bearer token, hence a plain HttpClient.</summary>
    static async Task<AdvisoryScanApi.ScanAnswer> PostScanAsync(string baseUrl, string secret, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl + "/"), Timeout = TimeSpan.FromMinutes(5) };
        using var request = new HttpRequestMessage(HttpMethod.Post, AdvisoryScanApi.Route.TrimStart('/'));
        request.Headers.Add(AdvisoryScanApi.TokenHeader, secret);
        HttpResponseMessage response;
        try { response = await http.SendAsync(request, ct); }
        catch (HttpRequestException e) { throw new ApiException(null, $"cannot reach {baseUrl}: {e.InnerException?.Message ?? e.Message}"); }
        using (response)
        {
            if (response.StatusCode == HttpStatusCode.Unauthorized)
                throw new ApiException(response.StatusCode, $"{baseUrl} refused the scan token: check {OpsSecrets.AdvisoryScanToken}.");
            if (!response.IsSuccessStatusCode) throw new ApiException(response.StatusCode, await ApiClient.DescribeAsync(response, ct));
            return await response.Content.ReadFromJsonAsync<AdvisoryScanApi.ScanAnswer>(ApiClient.Json, ct)
                   ?? throw new ApiException(response.StatusCode, "the scan answered with an empty body");
        }
    }

    static Command List()
    {
        var project = new Option<string?>("--project") { Description = "Only this project (its slug or id)." };
        var org = ProjectsCommand.OrgOption("Only this organisation's projects (its slug or id); with --project, the project's organisation.");
        var severity = new Option<string?>("--severity") { Description = "Only this severity: info, warning or critical." };
        severity.AcceptOnlyFromAmong(AdvisoryStore.Severities);
        var rule = new Option<string?>("--rule") { Description = "Only this rule's advisories (e.g. production_build_failed)." };
        var status = new Option<string>("--status") { Description = "open, resolved, suppressed or all.", DefaultValueFactory = _ => "open" };
        status.AcceptOnlyFromAmong([.. AdvisoryStore.Statuses, "all"]);
        var failOn = new Option<string?>("--fail-on")
        {
            Description = $"Exit {OpenAdvisoriesFound} when an open advisory of this severity or higher exists (info, warning, critical), for CI gates.",
        };
        failOn.AcceptOnlyFromAmong(AdvisoryStore.Severities);
        var json = ProjectsCommand.JsonOption();
        var command = new Command("list", "Advisories of the projects you can see, most severe first (needs `odooops login`).")
            { project, org, severity, rule, status, failOn, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var projectId = parse.GetValue(project) is { } p ? (await ProjectResolver.ResolveAsync(api, p, parse.GetValue(org), ct)).Id : (Guid?)null;
            var orgId = projectId is null && parse.GetValue(org) is { } o ? (await RunnerAdminCommand.ResolveOrgAsync(api, o, ct)).Id : (Guid?)null;
            var filters = string.Concat(new[] { ("project", projectId?.ToString()), ("org", orgId?.ToString()), ("severity", parse.GetValue(severity)), ("rule", parse.GetValue(rule)) }
                .Where(f => f.Item2 is not null).Select(f => $"&{f.Item1}={Uri.EscapeDataString(f.Item2!)}"));
            string Path(string s) => $"api/ops/advisories?status={s}" + filters;
            var shown = parse.GetValue(status)!;
            var list = await api.GetAsync<AdvisoriesApi.AdvisoryList>(Path(shown), ct);

            if (parse.GetValue(json)) ConsoleOutput.Json(list);
            else
            {
                ConsoleOutput.Table(["advisory", "severity", "project", "branch", "rule", "status", "last seen", "title"],
                    list.Advisories.Select(a => (IReadOnlyList<string?>)[a.Id.ToString(), a.Severity, a.ProjectSlug, a.Branch ?? "—", a.Rule,
                        a.Status == "suppressed" && a.SuppressedUntil is { } until ? $"suppressed until {until:yyyy-MM-dd HH:mm}Z" : a.Status,
                        ConsoleOutput.Ago(a.LastSeenAt), a.Title]));
                if (list.Advisories.Count == 0) Console.Error.WriteLine($"No {(shown == "all" ? "" : shown + " ")}advisories.");
            }

            if (parse.GetValue(failOn) is not { } threshold) return 0;
            var open = shown is "open" or "all" ? list.Advisories : (await api.GetAsync<AdvisoriesApi.AdvisoryList>(Path("open"), ct)).Advisories;
            var failing = open.Count(a => a.Status == "open" && AdvisoryStore.SeverityRank(a.Severity) >= AdvisoryStore.SeverityRank(threshold));
            if (failing == 0) return 0;
            Console.Error.WriteLine($"{failing} open advisory(ies) at or above {threshold}.");
            return OpenAdvisoriesFound;
        }));
        return command;
    }
}
