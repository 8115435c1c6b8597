using System.CommandLine;
using OdooOps.Branches;
using OdooOps.Instances;
using OdooOps.Projects;

namespace OdooOps.Cli.Client;

/// <summary>`odooops instances list|show|start|stop|restart|logs`, over the REST API with the stored token.</summary>
internal static class InstancesCommand
{
    public static Command Create()
    {
        var instances = new Command("instances", "The Odoo servers of your branches: list, show, start, stop, restart, logs (needs `odooops login`).");
        instances.Add(List());
        instances.Add(Show());
        foreach (var action in InstanceStore.Actions) instances.Add(Act(action));
        instances.Add(InstanceLogsCommand.Create());
        return instances;
    }

    public static Argument<Guid> IdArgument() => new("instance-id") { Description = "The instance's id (as `odooops instances list` prints it)." };

    static Command List()
    {
        var project = new Option<string?>("--project", "-p") { Description = "The project's slug or id (default: every project you can see)." };
        var org = ProjectsCommand.OrgOption("The organisation (its slug): the project's, when its slug is used in several, or whose projects to list.");
        var branch = new Option<string?>("--branch") { Description = "Only this branch's instances (name or id; needs --project)." };
        var all = new Option<bool>("--all") { Description = "Also the retired instances (stopped for good: superseded, expired)." };
        var json = ProjectsCommand.JsonOption();
        var command = new Command("list", "Instances: state, URL, release, uptime and restarts; production first.") { project, org, branch, all, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            if (parse.GetValue(branch) is not null && parse.GetValue(project) is null) throw new ArgumentException("--branch needs --project.");
            using var api = ApiClient.FromConfig();
            var projects = parse.GetValue(project) is { } one
                ? [await ProjectResolver.ResolveAsync(api, one, parse.GetValue(org), ct)]
                : (await api.GetAsync<ProjectsApi.ProjectList>(ProjectResolver.ListPath(parse.GetValue(org)), ct)).Projects;
            var list = new List<(ProjectSummary Project, Instance Instance)>();
            foreach (var p in projects)
            {
                var query = (parse.GetValue(all) ? "?include_retired=true" : "?include_retired=false")
                            + (parse.GetValue(branch) is { } b ? $"&branch_id={await BranchIdAsync(api, p, b, ct)}" : "");
                var page = await api.GetAsync<InstancesApi.InstanceList>($"api/ops/projects/{p.Id}/instances{query}", ct);
                list.AddRange(page.Instances.Select(i => (p, i)));
            }
            if (parse.GetValue(json)) { ConsoleOutput.Json(new InstancesApi.InstanceList([.. list.Select(x => x.Instance)])); return 0; }
            ConsoleOutput.Table(["instance", "project", "branch", "stage", "state", "url", "release", "uptime", "restarts"],
                list.Select(x => (IReadOnlyList<string?>)[x.Instance.Id.ToString(), x.Project.Slug, x.Instance.Branch + (x.Instance.IsCurrent ? "" : " (previous)"),
                    x.Instance.Stage, StateText(x.Instance), x.Instance.Url ?? "—", Release(x.Instance), Uptime(x.Instance), x.Instance.Restarts.ToString()]));
            if (list.Count == 0) Console.Error.WriteLine("No instances: every successful build on a runner that serves instances starts one.");
            return 0;
        }));
        return command;
    }

    internal static async Task<Guid> BranchIdAsync(ApiClient api, ProjectSummary project, string nameOrId, CancellationToken ct)
    {
        if (Guid.TryParse(nameOrId, out var id)) return id;
        var branches = await api.GetAsync<BranchesApi.BranchList>($"api/ops/projects/{project.Id}/branches", ct);
        return branches.Branches.FirstOrDefault(b => b.Name == nameOrId)?.Id
               ?? throw new ArgumentException($"No branch '{nameOrId}' in {project.Slug}: see odooops branches list --project {project.Slug}.");
    }

    static Command Show()
    {
        var id = IdArgument();
        var json = ProjectsCommand.JsonOption();
        var command = new Command("show", "One instance: state and reason, URL, release, runner, port, database, times.") { id, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var i = await GetAsync(api, parse.GetValue(id), ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(i); return 0; }
            ConsoleOutput.Table(["", ""], new (string, string?)[]
            {
                ("instance", i.Id.ToString()), ("branch", $"{i.Branch} ({i.Stage}{(i.IsCurrent ? ", current" : "")})"), ("state", StateText(i)),
                ("asked", i.Desired), ("url", i.Url ?? "—"), ("release", $"build {i.BuildId}{(i.CommitSha is { } sha ? $", commit {sha}" : "")}"),
                ("runner", i.RunnerName ?? "—"), ("http port", i.HttpPort?.ToString() ?? "—"), ("database", i.DatabaseName),
                ("uptime", Uptime(i)), ("restarts", i.Restarts.ToString()), ("started", ConsoleOutput.Ago(i.StartedAt)),
                ("stopped", ConsoleOutput.Ago(i.StoppedAt)), ("expires", i.ExpiresAt?.ToString("yyyy-MM-dd HH:mm 'UTC'") ?? "—"),
                ("retired", ConsoleOutput.Ago(i.RetiredAt)), ("downtime", i.DowntimeMs is { } ms ? $"{ms} ms" : "—"),
            }.Select(r => (IReadOnlyList<string?>)[r.Item1, r.Item2]));
            return 0;
        }));
        return command;
    }

    static Command Act(string action)
    {
        var id = IdArgument();
        var yes = new Option<bool>("--yes", "-y") { Description = "Stop or restart a production instance (its site goes down meanwhile)." };
        var json = ProjectsCommand.JsonOption();
        var command = new Command(action, action switch
        {
            "start" => "Ask the instance's runner to start it (a failed one gets a fresh attempt).",
            "stop" => "Ask the instance's runner to stop it; it stays stopped until started. A production instance needs --yes.",
            _ => "Ask the instance's runner to restart it. A production instance needs --yes.",
        }) { id, yes, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var instanceId = parse.GetValue(id);
            if (action != "start" && !parse.GetValue(yes) && await GetAsync(api, instanceId, ct) is { IsProduction: true } production)
                throw new ArgumentException($"{instanceId} is the production instance of {production.Branch}: {(action == "stop" ? "stopping" : "restarting")} it takes the site down; add --yes to go ahead.");
            var i = await api.PostAsync<Instance>($"api/ops/instances/{instanceId}/{action}", new { }, ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(i); return 0; }
            Console.WriteLine($"Instance {i.Id} of {i.Branch}: {action} requested (it is {i.State} until its runner acts on it).");
            return 0;
        }));
        return command;
    }

    public static async Task<Instance> GetAsync(ApiClient api, Guid id, CancellationToken ct)
    {
        try { return await api.GetAsync<Instance>($"api/ops/instances/{id}", ct); }
        catch (ApiException e) when (e.Status == System.Net.HttpStatusCode.NotFound)
        {
            throw new ApiException(e.Status, $"No instance with the id {id} (or it is not yours to see).");
        }
    }

    static string StateText(Instance i) =>
        i.State + (i.Desired == "stopped" && i.State != "stopped" ? " (stop asked)" : "") + (i.Reason is { Length: > 0 } r ? $": {r}" : "");

    static string Release(Instance i) => i.CommitSha is { } sha ? sha[..Math.Min(12, sha.Length)] : i.BuildId.ToString()[..8];

    static string Uptime(Instance i) => i.UptimeSeconds is not { } s ? "—"
        : s < 60 ? $"{s}s" : s < 3600 ? $"{s / 60}m" : s < 86400 ? $"{s / 3600}h {s % 3600 / 60}m" : $"{s / 86400}d {s % 86400 / 3600}h";
}
