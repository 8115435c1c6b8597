using System.CommandLine;
using OdooOps.Advisories;

namespace OdooOps.Cli.Client;

/// <summary>
/// `odooops advisories show|resolve|suppress|unsuppress ID`: one advisory with its history, and the changes the console
/// offers, over the REST API (AdvisoryActions behind it; developer or higher, audited).
/// </summary>
internal static class AdvisoryActionsCommand
{
    public static IEnumerable<Command> Create() => [Show(), Change("resolve", "Resolve an advisory; the next scan opens it again if its condition still holds."),
        Suppress(), Change("unsuppress", "End an advisory's suppression now: it is open again.")];

    static Argument<Guid> Id() => new("ID") { Description = "The advisory's id (see `odooops advisories list`)." };

    static Command Show()
    {
        var id = Id();
        var json = ProjectsCommand.JsonOption();
        var command = new Command("show", "An advisory: its detail, what to do, and its history (opened, suppressed by whom until when and why, resolved).") { id, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var detail = await GetAsync(api, parse.GetValue(id), ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(detail); return 0; }
            var a = detail.Advisory;
            Console.WriteLine($"{a.Severity.ToUpperInvariant()} {a.Title}");
            Console.WriteLine($"  {a.ProjectSlug}{(a.Branch is { } b ? $" · {b}" : "")} · rule {a.Rule} · {a.Status}" +
                              (a.Status == "suppressed" && a.SuppressedUntil is { } until ? $" until {until:yyyy-MM-dd HH:mm}Z" : ""));
            if (a.Detail is { Length: > 0 } d) Console.WriteLine($"  {d}");
            if (a.Remediation is { Length: > 0 } r) Console.WriteLine($"  What to do: {r}");
            Console.WriteLine();
            ConsoleOutput.Table(["when (UTC)", "event", "by", "until", "reason"], detail.History.Select(e => (IReadOnlyList<string?>)[
                $"{e.At:yyyy-MM-dd HH:mm}", e.Event, e.ActorEmail ?? (e.ActorUserId is null ? "scan" : "a former member"),
                e.SuppressedUntil is { } u ? $"{u:yyyy-MM-dd HH:mm}Z" : "", e.Reason ?? ""]));
            return 0;
        }));
        return command;
    }

    static Command Change(string verb, string description)
    {
        var id = Id();
        var command = new Command(verb, description) { id };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var a = (await GetAsync(api, parse.GetValue(id), ct)).Advisory;
            var after = await api.PostAsync<Advisory>($"api/ops/projects/{a.ProjectId}/advisories/{a.Id}/{verb}", new { }, ct);
            Console.WriteLine($"“{after.Title}” ({after.ProjectSlug}) is {after.Status}.");
            return 0;
        }));
        return command;
    }

    static Command Suppress()
    {
        var id = Id();
        var until = new Option<string>("--until")
        {
            Description = "Until when: a date (2030-01-31, to the end of that day UTC) or an ISO 8601 time with offset (2030-01-31T09:00:00+01:00).",
            Required = true,
        };
        var reason = new Option<string>("--reason") { Description = $"Why (at most {AdvisoryActions.MaxReasonLength} characters); shown to everyone who sees the project.", Required = true };
        var command = new Command("suppress", "Suppress an advisory until a date for a reason; the scan opens it again once the date has passed, if it still holds.")
            { id, until, reason };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var a = (await GetAsync(api, parse.GetValue(id), ct)).Advisory;
            var after = await api.PostAsync<Advisory>($"api/ops/projects/{a.ProjectId}/advisories/{a.Id}/suppress",
                new AdvisoriesApi.SuppressBody(parse.GetValue(until), parse.GetValue(reason)), ct);
            Console.WriteLine($"“{after.Title}” ({after.ProjectSlug}) is suppressed until {after.SuppressedUntil:yyyy-MM-dd HH:mm}Z.");
            return 0;
        }));
        return command;
    }

    static async Task<AdvisoriesApi.AdvisoryDetail> GetAsync(ApiClient api, Guid id, CancellationToken ct)
    {
        try { return await api.GetAsync<AdvisoriesApi.AdvisoryDetail>($"api/ops/advisories/{id}", ct); }
        catch (ApiException e) when (e.Status == System.Net.HttpStatusCode.NotFound)
        {
            throw new ApiException(e.Status, $"No advisory {id} (or it is not yours to see): see odooops advisories list --status all.");
        }
    }
}
