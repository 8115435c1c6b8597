using System.CommandLine;
using OdooOps.Orgs;
using OdooOps.Projects;
using OdooOps.Runners.Protocol;

namespace OdooOps.Cli.Client;

/// <summary>`odooops projects list|create|labels|network|instances|credential`, over the REST API with the stored token.</summary>
internal static class ProjectsCommand
{
    public static Command Create()
    {
        var projects = new Command("projects", "List and create projects, their runner labels and repository credential (needs `odooops login`).");
        projects.Add(List());
        projects.Add(ProjectOverviewCommand.Create());
        projects.Add(CreateProject());
        projects.Add(RunnerLabels());
        projects.Add(BuildNetwork());
        projects.Add(ProjectInstancesCommand.Create());
        projects.Add(RepoCredentialCommand.Create());
        return projects;
    }

    public static Option<bool> JsonOption() => new("--json") { Description = "Print the API's JSON instead of a table." };

    public static Option<string?> OrgOption(string description) => new("--org") { Description = description };

    static Command List()
    {
        var org = OrgOption("Only this organisation's projects (its slug).");
        var json = JsonOption();
        var command = new Command("list", "Projects you can see, most recent activity first.") { org, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var list = await api.GetAsync<ProjectsApi.ProjectList>(ProjectResolver.ListPath(parse.GetValue(org)), ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(list); return 0; }
            var orgs = (await api.GetAsync<OrgsApi.OrgList>("api/ops/orgs", ct)).Orgs.ToDictionary(o => o.Id, o => o.Slug);
            ConsoleOutput.Table(["org", "slug", "name", "odoo", "production", "last build", "advisories"],
                list.Projects.Select(p => (IReadOnlyList<string?>)[
                    orgs.GetValueOrDefault(p.OrgId, p.OrgId.ToString()), p.Slug, p.Name, p.RuntimeVersion, p.ProductionBranch ?? "—",
                    p.LastBuildStatus is null ? "—" : $"{p.LastBuildStatus} {ConsoleOutput.Ago(p.LastBuildAt)}", p.OpenAdvisories.ToString()]));
            if (list.Projects.Count == 0) Console.Error.WriteLine("No projects.");
            return 0;
        }));
        return command;
    }

    /// <summary>`odooops projects labels PROJECT [--set a,b | --clear]`: the labels a runner needs to take the project's builds.</summary>
    static Command RunnerLabels()
    {
        var project = new Argument<string>("project") { Description = "The project's slug or id." };
        var org = OrgOption("The organisation's slug, when the project's slug is used in several.");
        var set = new Option<string?>("--set") { Description = "Comma-separated labels every runner of this project's builds must have (project admins)." };
        var clear = new Option<bool>("--clear") { Description = "Any runner may take the project's builds again (project admins)." };
        var json = JsonOption();
        var command = new Command("labels", "Show or set the runner labels a project's builds require (from the next queued build).") { project, org, set, clear, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            if (parse.GetValue(set) is not null && parse.GetValue(clear)) throw new ArgumentException("--set and --clear exclude each other.");
            using var api = ApiClient.FromConfig();
            var target = await ProjectResolver.ResolveAsync(api, parse.GetValue(project)!, parse.GetValue(org), ct);
            var path = $"api/ops/projects/{target.Id}/runner-labels";
            string[]? labels = parse.GetValue(clear) ? []
                : parse.GetValue(set) is { } text ? [.. RunnerLabelRules.Parse(text)]
                : null;
            var result = labels is null
                ? await api.GetAsync<Runners.Admin.RunnerLabelsApi.RunnerLabels>(path, ct)
                : await api.PutAsync<Runners.Admin.RunnerLabelsApi.RunnerLabels>(path, new Runners.Admin.RunnerLabelsApi.RunnerLabels(labels), ct);
            if (parse.GetValue(json)) ConsoleOutput.Json(result);
            else Console.WriteLine(result.Labels is { Count: > 0 } l
                ? $"{target.Slug}: builds go to runners labelled {string.Join(", ", l)}."
                : $"{target.Slug}: any runner may take its builds.");
            return 0;
        }));
        return command;
    }

    /// <summary>`odooops projects network PROJECT [--on | --off]`: whether the project's build steps may go out.</summary>
    static Command BuildNetwork()
    {
        var project = new Argument<string>("project") { Description = "The project's slug or id." };
        var org = OrgOption("The organisation's slug, when the project's slug is used in several.");
        var on = new Option<bool>("--on") { Description = "Build steps may open outbound connections (project admins)." };
        var off = new Option<bool>("--off") { Description = "Build steps have a loopback only; the checkout still fetches (project admins)." };
        var json = JsonOption();
        var command = new Command("network", "Show or switch whether the project's build steps may open outbound connections.") { project, org, on, off, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            if (parse.GetValue(on) && parse.GetValue(off)) throw new ArgumentException("--on and --off exclude each other.");
            using var api = ApiClient.FromConfig();
            var target = await ProjectResolver.ResolveAsync(api, parse.GetValue(project)!, parse.GetValue(org), ct);
            var path = $"api/ops/projects/{target.Id}/build-network";
            var result = parse.GetValue(on) || parse.GetValue(off)
                ? await api.PutAsync<BuildNetworkApi.BuildNetwork>(path, new BuildNetworkApi.BuildNetwork(parse.GetValue(on)), ct)
                : await api.GetAsync<BuildNetworkApi.BuildNetwork>(path, ct);
            if (parse.GetValue(json)) ConsoleOutput.Json(result);
            else Console.WriteLine(result.OutboundAccess == true
                ? $"{target.Slug}: build steps may open outbound connections."
                : $"{target.Slug}: build steps have no network (the checkout still fetches).");
            return 0;
        }));
        return command;
    }

    static Command CreateProject()
    {
        var org = new Option<string>("--org") { Description = "The organisation's slug (you must be its owner or admin).", Required = true };
        var name = new Option<string>("--name") { Description = "The project's name.", Required = true };
        var repo = new Option<string>("--repo-url") { Description = "Its git repository (https://…, ssh://…, git@host:org/repo.git).", Required = true };
        var slug = new Option<string?>("--slug") { Description = "Its slug (default: made from the name)." };
        var version = new Option<string?>("--odoo-version") { Description = "Odoo version, such as 19.0 or saas-18.3 (default: the organisation's default Odoo version)." };
        var json = JsonOption();
        var command = new Command("create", "Create a project in an organisation.") { org, name, repo, slug, version, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var project = await api.PostAsync<ProjectSummary>("api/ops/projects", new ProjectsApi.CreateProject(
                null, parse.GetValue(org), parse.GetValue(name), parse.GetValue(slug), parse.GetValue(repo), parse.GetValue(version)), ct);
            if (parse.GetValue(json)) ConsoleOutput.Json(project);
            else Console.WriteLine($"Created project '{project.Name}' ({project.Slug}, Odoo {project.RuntimeVersion}) in {parse.GetValue(org)}: id {project.Id}");
            return 0;
        }));
        return command;
    }
}

/// <summary>Turns what people type (a slug, or an id) into a project, with the API as the only source.</summary>
internal static class ProjectResolver
{
    public static string ListPath(string? org) => org is null ? "api/ops/projects" : $"api/ops/projects?org={Uri.EscapeDataString(org)}";

    /// <summary>An id is fetched; a slug is looked up in the list (slugs are unique per organisation only, hence --org).</summary>
    public static async Task<ProjectSummary> ResolveAsync(ApiClient api, string slugOrId, string? org, CancellationToken ct)
    {
        if (Guid.TryParse(slugOrId, out var id))
        {
            try { return await api.GetAsync<ProjectSummary>($"api/ops/projects/{id}", ct); }
            catch (ApiException e) when (e.Status == System.Net.HttpStatusCode.NotFound)
            {
                throw new ApiException(e.Status, $"No project with the id {id} (or it is not yours to see).");
            }
        }
        var matches = (await api.GetAsync<ProjectsApi.ProjectList>(ListPath(org), ct)).Projects.Where(p => p.Slug == slugOrId).ToList();
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new ArgumentException($"No project '{slugOrId}'{(org is null ? "" : $" in '{org}'")}: see odooops projects list."),
            _ => throw new ArgumentException($"The slug '{slugOrId}' is used in {matches.Count} organisations: add --org SLUG or give the project's id."),
        };
    }
}
