using System.CommandLine;
using System.Globalization;
using OdooOps.Branches;
using OdooOps.Projects;

namespace OdooOps.Cli.Client;

/// <summary>`odooops branches instance|move-host`: a branch's instance size and the runner host it is pinned to.</summary>
internal static class BranchInstanceCommand
{
    static Argument<string> ProjectArgument() => new("project") { Description = "The project's slug or id." };
    static Argument<string> BranchArgument() => new("branch") { Description = "The branch's name or id." };

    /// <summary>`odooops branches instance PROJECT BRANCH [--workers N] [--cron-threads N] [--memory-mb N] [--cpus X]`.</summary>
    public static Command Settings()
    {
        var (project, branch) = (ProjectArgument(), BranchArgument());
        var org = ProjectsCommand.OrgOption("The project's organisation (when its slug is used in several).");
        var workers = new Option<int?>("--workers") { Description = "Odoo HTTP workers, 0–64 (0: threaded, one process)." };
        var cron = new Option<int?>("--cron-threads") { Description = "Odoo cron threads, 0–16." };
        var memory = new Option<int?>("--memory-mb") { Description = "Memory limit of the instance in MB, 128–262144." };
        var cpus = new Option<decimal?>("--cpus") { Description = "CPU limit of the instance, 0.1–256 (e.g. 1.5)." };
        var json = ProjectsCommand.JsonOption();
        var command = new Command("instance",
            "Show or set a branch's instance size (developers; admins on production); a change applies at the instance's next start or restart.")
            { project, branch, org, workers, cron, memory, cpus, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var p = await ProjectResolver.ResolveAsync(api, parse.GetValue(project)!, parse.GetValue(org), ct);
            var b = await BranchResolver.ResolveAsync(api, p, parse.GetValue(branch)!, ct);
            var path = $"api/ops/projects/{p.Id}/branches/{b.Id}/instance-settings";
            var body = new BranchInstanceApi.InstanceSettingsChange(parse.GetValue(workers), parse.GetValue(cron), parse.GetValue(memory), parse.GetValue(cpus));
            var change = body is not { Workers: null, CronThreads: null, MemoryMb: null, Cpus: null };
            var s = change
                ? await api.PutAsync<BranchInstanceSettings.Settings>(path, body, ct)
                : await api.GetAsync<BranchInstanceSettings.Settings>(path, ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(s); return 0; }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{s.Branch} ({s.Stage}): workers {s.Workers}, cron threads {s.CronThreads}, memory {s.MemoryMb} MB, CPUs {s.Cpus:0.##}; host: {s.RunnerName ?? "not pinned"}.")
                + (change ? " Applies at the instance's next start or restart." : ""));
            return 0;
        }));
        return command;
    }

    /// <summary>`odooops branches move-host PROJECT BRANCH RUNNER`: pins the branch's next deploys to another runner.</summary>
    public static Command MoveHost()
    {
        var (project, branch) = (ProjectArgument(), BranchArgument());
        var runner = new Argument<string>("runner") { Description = "The runner's id, or its name when no other runner has it." };
        var org = ProjectsCommand.OrgOption("The project's organisation (when its slug is used in several).");
        var json = ProjectsCommand.JsonOption();
        var command = new Command("move-host",
            "Pin a production or staging branch to another runner (org owners and admins): its next deploy builds there; the current instance, its filestore and database are not moved.")
            { project, branch, runner, org, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var p = await ProjectResolver.ResolveAsync(api, parse.GetValue(project)!, parse.GetValue(org), ct);
            var b = await BranchResolver.ResolveAsync(api, p, parse.GetValue(branch)!, ct);
            var o = await RunnerAdminCommand.ResolveOrgAsync(api, p.OrgId.ToString(), ct);
            var r = await RunnerAdminCommand.ResolveRunnerAsync(api, o, parse.GetValue(runner)!, ct);
            var moved = await api.PostAsync<BranchInstanceApi.HostMoved>($"api/ops/projects/{p.Id}/branches/{b.Id}/host", new BranchInstanceApi.MoveHost(r.Id), ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(moved); return 0; }
            Console.WriteLine(moved.Changed ? $"{moved.Branch} is pinned to {moved.RunnerName}. {moved.Message}" : $"{moved.Branch} is already pinned to {moved.RunnerName}.");
            return 0;
        }));
        return command;
    }
}

/// <summary>Turns a branch's name or id into the branch, with the API as the only source.</summary>
internal static class BranchResolver
{
    public static async Task<BranchSummary> ResolveAsync(ApiClient api, ProjectSummary project, string nameOrId, CancellationToken ct) =>
        Find((await api.GetAsync<BranchesApi.BranchList>($"api/ops/projects/{project.Id}/branches", ct)).Branches, project, nameOrId);

    public static BranchSummary Find(IReadOnlyList<BranchSummary> branches, ProjectSummary project, string nameOrId) =>
        branches.FirstOrDefault(x => x.Name == nameOrId || (Guid.TryParse(nameOrId, out var id) && x.Id == id))
        ?? throw new ArgumentException($"No branch '{nameOrId}' in {project.Slug}: see odooops branches list --project {project.Slug}.");
}
