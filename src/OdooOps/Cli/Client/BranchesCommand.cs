using System.CommandLine;
using OdooOps.Branches;

namespace OdooOps.Cli.Client;

/// <summary>`odooops branches list|move`, over the REST API with the stored token.</summary>
internal static class BranchesCommand
{
    static readonly string[] Stages = ["development", "staging", "production"];

    public static Command Create()
    {
        var branches = new Command("branches", "List branches, move them between stages, size their instance and move it to another host (needs `odooops login`).");
        branches.Add(List());
        branches.Add(Move());
        branches.Add(BranchInstanceCommand.Settings());
        branches.Add(BranchInstanceCommand.MoveHost());
        return branches;
    }

    static Option<string> ProjectOption() => new("--project") { Description = "The project's slug or id.", Required = true };

    static Command List()
    {
        var project = ProjectOption();
        var org = ProjectsCommand.OrgOption("The project's organisation (when its slug is used in several).");
        var json = ProjectsCommand.JsonOption();
        var command = new Command("list", "A project's branches: production, staging, then development.") { project, org, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var p = await ProjectResolver.ResolveAsync(api, parse.GetValue(project)!, parse.GetValue(org), ct);
            var list = await api.GetAsync<BranchesApi.BranchList>($"api/ops/projects/{p.Id}/branches", ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(list); return 0; }
            ConsoleOutput.Table(["branch", "stage", "last build", "updated"],
                list.Branches.Select(b => (IReadOnlyList<string?>)[
                    b.Name, b.Stage, b.LastBuildStatus is null ? "—" : $"{b.LastBuildStatus} {ConsoleOutput.Ago(b.LastBuildAt)}", ConsoleOutput.Ago(b.UpdatedAt)]));
            if (list.Branches.Count == 0) Console.Error.WriteLine($"No branches in {p.Slug}.");
            return 0;
        }));
        return command;
    }

    static Command Move()
    {
        var project = ProjectOption();
        var org = ProjectsCommand.OrgOption("The project's organisation (when its slug is used in several).");
        var branch = new Option<string>("--branch") { Description = "The branch's name or id.", Required = true };
        var stage = new Option<string>("--stage") { Description = "development, staging or production.", Required = true };
        var json = ProjectsCommand.JsonOption();
        var command = new Command("move",
            "Move a branch to another stage. Moving one to production moves the current production branch to staging (project admins).")
            { project, org, branch, stage, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            var target = parse.GetValue(stage);
            if (target is null || !Stages.Contains(target)) throw new ArgumentException($"--stage must be one of: {string.Join(", ", Stages)} (got '{target}').");
            using var api = ApiClient.FromConfig();
            var p = await ProjectResolver.ResolveAsync(api, parse.GetValue(project)!, parse.GetValue(org), ct);
            var branches = (await api.GetAsync<BranchesApi.BranchList>($"api/ops/projects/{p.Id}/branches", ct)).Branches;
            var b = BranchResolver.Find(branches, p, parse.GetValue(branch)!);
            var previousProduction = branches.FirstOrDefault(x => x.IsProduction && x.Id != b.Id);

            var moved = await api.PostAsync<Branch>($"api/ops/projects/{p.Id}/branches/{b.Id}/stage", new BranchesApi.MoveBranch(target), ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(moved); return 0; }
            var demoted = target == "production" && previousProduction is not null ? $"; {previousProduction.Name} moved to staging" : "";
            Console.WriteLine(b.Stage == moved.Stage
                ? $"{moved.Name} is already in {moved.Stage} ({p.Slug})."
                : $"Moved {moved.Name} from {b.Stage} to {moved.Stage} in {p.Slug}{demoted}.");
            return 0;
        }));
        return command;
    }
}
