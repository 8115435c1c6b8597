using System.CommandLine;
using OdooOps.Audit;

namespace OdooOps.Cli.Client;

/// <summary>
/// `odooops audit list|export`: an organisation's audit log over the REST API (owners and admins), with the filters the
/// console's Audit log page has; export streams the API's CSV to a file or stdout.
/// </summary>
internal static class AuditCommand
{
    public static Command Create()
    {
        var audit = new Command("audit", "Your organisation's audit log: list a page of it, or export it as CSV (owners and admins; needs `odooops login`).");
        audit.Add(List());
        audit.Add(Export());
        return audit;
    }

    sealed record Filters(Option<string?> Org, Option<string?> Actor, Option<string?> Action, Option<string?> Target, Option<string?> From, Option<string?> To)
    {
        public static Filters Create() => new(
            ProjectsCommand.OrgOption("The organisation's slug or id (default: your only one)."),
            new("--actor") { Description = "Only changes by this email, or by system (admin verbs) or webhook (git pushes)." },
            new("--action") { Description = "Only this action (member.role), or actions starting so with a trailing * (member.*)." },
            new("--target") { Description = "Only this target: TYPE:ID (project:…), or one word matching the target's type or id." },
            new("--from") { Description = "From this date (2030-01-31, UTC) or time with offset, included." },
            new("--to") { Description = "To this date (included) or time with offset (not included)." });

        public IEnumerable<Option> All => [Org, Actor, Action, Target, From, To];

        public async Task<string> PathAsync(ApiClient api, ParseResult parse, string suffix, CancellationToken ct, params (string, string?)[] more)
        {
            var org = await RunnerAdminCommand.ResolveOrgAsync(api, parse.GetValue(Org), ct);
            var query = new[] { ("actor", parse.GetValue(Actor)), ("action", parse.GetValue(Action)), ("target", parse.GetValue(Target)),
                    ("from", parse.GetValue(From)), ("to", parse.GetValue(To)) }.Concat(more)
                .Where(p => !string.IsNullOrEmpty(p.Item2)).Select(p => $"{p.Item1}={Uri.EscapeDataString(p.Item2!)}");
            return $"api/ops/orgs/{org.Id}/audit{suffix}?{string.Join('&', query)}".TrimEnd('?');
        }
    }

    static Command List()
    {
        var filters = Filters.Create();
        var limit = new Option<int>("--limit") { Description = $"Entries per page (1–{AuditApi.MaxLimit}).", DefaultValueFactory = _ => 50 };
        var cursor = new Option<long?>("--cursor") { Description = "The next page: the cursor the previous page printed." };
        var json = ProjectsCommand.JsonOption();
        var command = new Command("list", "A page of the audit log, newest first.") { limit, cursor, json };
        foreach (var o in filters.All) command.Add(o);
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var path = await filters.PathAsync(api, parse, "", ct, ("limit", parse.GetValue(limit).ToString()), ("cursor", parse.GetValue(cursor)?.ToString()));
            var page = await api.GetAsync<AuditApi.AuditPage>(path, ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(page); return 0; }
            ConsoleOutput.Table(["id", "when (UTC)", "actor", "action", "target", "project"], page.Entries.Select(e => (IReadOnlyList<string?>)[
                e.Id.ToString(), $"{e.CreatedAt:yyyy-MM-dd HH:mm:ss}", e.ActorEmail ?? e.Actor, e.Action,
                e.TargetType is null ? "—" : $"{e.TargetType}:{e.TargetId}", e.ProjectSlug ?? "—"]));
            if (page.Entries.Count == 0) Console.Error.WriteLine("No entries.");
            if (page.NextCursor is { } next) Console.Error.WriteLine($"Older entries: add --cursor {next}");
            return 0;
        }));
        return command;
    }

    static Command Export()
    {
        var filters = Filters.Create();
        var output = new Option<string?>("--output", "-o") { Description = "Write the CSV to this file (default: stdout)." };
        var command = new Command("export", "The audit log with these filters as CSV (every matching entry, newest first).") { output };
        foreach (var o in filters.All) command.Add(o);
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            using var response = await api.OpenStreamAsync(await filters.PathAsync(api, parse, "/export", ct), "text/csv", ct);
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            if (parse.GetValue(output) is { } file)
            {
                var temp = file + ".part";
                await using (var target = File.Create(temp)) await body.CopyToAsync(target, ct);
                File.Move(temp, file, overwrite: true);
                Console.Error.WriteLine($"Wrote {file}.");
            }
            else
            {
                await using var stdout = Console.OpenStandardOutput();
                await body.CopyToAsync(stdout, ct);
            }
            return 0;
        }));
        return command;
    }
}
