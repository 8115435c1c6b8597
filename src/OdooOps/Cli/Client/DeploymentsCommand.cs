using System.CommandLine;
using OdooOps.Deployments;
using OdooOps.Projects;

namespace OdooOps.Cli.Client;

/// <summary>
/// `odooops deployments list|rollback|plan`, over the REST API with the stored token: the history of releases that went
/// live, a rollback to an earlier one still kept on its host (the rules, roles and audit row are the API's), and the dry
/// run of a deploy (also `builds trigger --dry-run`).
/// </summary>
internal static class DeploymentsCommand
{
    public static Command Create()
    {
        var deployments = new Command("deployments", "Releases that went live on your branches: list, roll back, plan a deploy (needs `odooops login`).");
        deployments.Add(List());
        deployments.Add(Rollback());
        deployments.Add(Plan());
        return deployments;
    }

    static Command List()
    {
        var project = new Argument<string>("project") { Description = "The project's slug or id." };
        var org = ProjectsCommand.OrgOption("The project's organisation (when its slug is used in several).");
        var branch = new Option<string?>("--branch") { Description = "Only this branch (name or id)." };
        var limit = new Option<int>("--limit") { Description = $"How many (1–{DeploymentsApi.MaxLimit}).", DefaultValueFactory = _ => 20 };
        var json = ProjectsCommand.JsonOption();
        var command = new Command("list", "A project's deployments, newest first: outcome, release, who, when, switch time; ✓ marks those you may roll back to.")
            { project, org, branch, limit, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var p = await ProjectResolver.ResolveAsync(api, parse.GetValue(project)!, parse.GetValue(org), ct);
            var query = $"limit={parse.GetValue(limit)}"
                + (parse.GetValue(branch) is { } b ? $"&branch_id={await InstancesCommand.BranchIdAsync(api, p, b, ct)}" : "");
            var list = await api.GetAsync<DeploymentsApi.DeploymentList>($"api/ops/projects/{p.Id}/deployments?{query}", ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(list); return 0; }
            ConsoleOutput.Table(["deployment", "branch", "outcome", "release", "who", "when", "switch", "rollback"],
                list.Deployments.Select(d => (IReadOnlyList<string?>)[d.Id.ToString(), d.Branch, Outcome(d), Release(d), d.CreatedByName ?? "—",
                    ConsoleOutput.Ago(d.FinishedAt ?? d.CreatedAt), d.SwitchMs is { } ms ? $"{ms} ms" : "—", d.CanRollBackTo ? "✓" : ""]));
            if (list.Deployments.Count == 0) Console.Error.WriteLine($"No deployments in {p.Slug}: a successful build that goes live is one.");
            return 0;
        }));
        return command;
    }

    static Command Rollback()
    {
        var id = new Argument<Guid>("deployment-id") { Description = "The earlier deployment whose release goes live again (see `deployments list`)." };
        var backup = new Option<Guid?>("--backup") { Description = "Also restore this backup of the branch into its database." };
        var preDeploy = new Option<bool>("--restore-pre-deploy-backup")
            { Description = "Also restore the pre-deploy backup of the deployment being undone (the database as it was before that release's update)." };
        var yes = new Option<bool>("--yes", "-y") { Description = "Roll back a production branch (its site is down while the release restarts)." };
        var json = ProjectsCommand.JsonOption();
        var command = new Command("rollback", "Go back to an earlier release still kept on the branch's host. " + DeploymentRollback.DatabaseNotice)
            { id, backup, preDeploy, yes, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            if (parse.GetValue(backup) is not null && parse.GetValue(preDeploy))
                throw new ArgumentException("--backup and --restore-pre-deploy-backup cannot be combined.");
            using var api = ApiClient.FromConfig();
            var target = await GetAsync(api, parse.GetValue(id), ct);
            var backupId = parse.GetValue(backup);
            if (parse.GetValue(preDeploy))
            {
                var live = (await api.GetAsync<DeploymentsApi.DeploymentList>($"api/ops/projects/{target.ProjectId}/deployments?branch_id={target.BranchId}&limit=50", ct))
                    .Deployments.FirstOrDefault(d => d.Status == "live") ?? throw new ArgumentException($"{target.Branch} has no live deployment to roll back.");
                backupId = live.PreDeployBackupId
                           ?? throw new ArgumentException($"The live deployment of {target.Branch} has no pre-deploy backup (its update changed no module): roll back without one, or name a backup with --backup.");
            }
            if (target.Stage == "production" && !parse.GetValue(yes))
                throw new ArgumentException($"{target.Branch} is production: its site is down while the release restarts. {DeploymentRollback.DatabaseNotice} Add --yes to go ahead.");
            var started = await api.PostAsync<DeploymentsApi.RollbackStarted>($"api/ops/deployments/{target.Id}/rollback",
                new DeploymentsApi.RollbackRequest(backupId), ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(started); return 0; }
            Console.WriteLine($"Rollback {started.Deployment.Id}: {started.Message}");
            return 0;
        }));
        return command;
    }

    static Command Plan()
    {
        var project = new Argument<string>("project") { Description = "The project's slug or id." };
        var branch = new Argument<string>("branch") { Description = "The branch's name or id." };
        var org = ProjectsCommand.OrgOption("The project's organisation (when its slug is used in several).");
        var json = ProjectsCommand.JsonOption();
        var command = new Command("plan", "Dry run: which modules a build of the branch's head would install or update, and why; nothing runs.")
            { project, branch, org, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var p = await ProjectResolver.ResolveAsync(api, parse.GetValue(project)!, parse.GetValue(org), ct);
            return await PrintPlanAsync(api, p, parse.GetValue(branch)!, parse.GetValue(json), ct);
        }));
        return command;
    }

    /// <summary>The dry run of a deploy, printed (the plan's own lines) or as JSON; shared with `builds trigger --dry-run`.</summary>
    public static async Task<int> PrintPlanAsync(ApiClient api, ProjectSummary project, string branch, bool json, CancellationToken ct)
    {
        var branchId = await InstancesCommand.BranchIdAsync(api, project, branch, ct);
        var plan = await api.GetAsync<DeployPlanner.BranchPlan>($"api/ops/projects/{project.Id}/branches/{branchId}/deploy-plan", ct);
        if (json) { ConsoleOutput.Json(plan); return 0; }
        Console.WriteLine($"{project.Slug}/{plan.Branch} ({plan.Stage}) at {plan.CommitSha[..Math.Min(12, plan.CommitSha.Length)]} \"{plan.CommitMessage}\"" +
                          (plan.DeployedBuildId is { } b ? $", compared with build {b}:" : ":"));
        foreach (var line in plan.Summary) Console.WriteLine(line);
        foreach (var problem in plan.Problems) Console.WriteLine($"  skipped addon {problem}");
        return 0;
    }

    static async Task<Deployment> GetAsync(ApiClient api, Guid id, CancellationToken ct)
    {
        try { return await api.GetAsync<Deployment>($"api/ops/deployments/{id}", ct); }
        catch (ApiException e) when (e.Status == System.Net.HttpStatusCode.NotFound)
        {
            throw new ApiException(e.Status, $"No deployment with the id {id} (or it is not yours to see).");
        }
    }

    static string Outcome(Deployment d) =>
        d.Status.Replace('_', ' ') + (d.Kind == "rollback" ? " (rollback)" : "") + (d.Reason is { Length: > 0 } r && d.Status is "failed" or "reverted" ? $": {r}" : "");

    static string Release(Deployment d) =>
        d.CommitSha is { } sha ? sha[..Math.Min(12, sha.Length)] : d.BuildId?.ToString()[..8] ?? "—";
}
