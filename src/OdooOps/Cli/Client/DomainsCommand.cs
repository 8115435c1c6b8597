using System.CommandLine;
using OdooOps.Branches;
using OdooOps.Instances.Domains;
using OdooOps.Projects;

namespace OdooOps.Cli.Client;

/// <summary>
/// `odooops domains list|add|remove|check --project P --branch B`: a branch's custom domains over the REST API (the
/// rules, roles and audit are the API's use cases). A new name is routed to the branch's instance once `check` found it
/// pointing at the server.
/// </summary>
internal static class DomainsCommand
{
    public static Command Create()
    {
        var domains = new Command("domains", "A branch's custom domains: list, add, remove, check that a name points at the server (needs `odooops login`).");
        domains.Add(List());
        domains.Add(Change("add", "Add a custom domain to a branch (routed once `check` verified it).", AddAsync));
        domains.Add(Change("remove", "Remove a custom domain: the name stops reaching the branch's instance at once.", RemoveAsync));
        domains.Add(Change("check", "Check that a domain resolves to the server; verified names are routed to the branch's instance.", CheckAsync));
        return domains;
    }

    sealed record Target(ApiClient Api, ProjectSummary Project, BranchSummary Branch)
    {
        public string Path => $"api/ops/projects/{Project.Id}/branches/{Branch.Id}/domains";
    }

    static (Option<string> Project, Option<string?> Org, Option<string> Branch, Option<bool> Json) Options() => (
        new("--project") { Description = "The project's slug or id.", Required = true },
        ProjectsCommand.OrgOption("The project's organisation (when its slug is used in several)."),
        new("--branch") { Description = "The branch's name or id.", Required = true },
        ProjectsCommand.JsonOption());

    static async Task<Target> ResolveAsync(ApiClient api, string project, string? org, string branch, CancellationToken ct)
    {
        var p = await ProjectResolver.ResolveAsync(api, project, org, ct);
        var branches = (await api.GetAsync<BranchesApi.BranchList>($"api/ops/projects/{p.Id}/branches", ct)).Branches;
        var b = branches.FirstOrDefault(x => x.Name == branch || (Guid.TryParse(branch, out var id) && x.Id == id))
                ?? throw new ArgumentException($"No branch '{branch}' in {p.Slug}: see odooops branches list --project {p.Slug}.");
        return new Target(api, p, b);
    }

    static Command List()
    {
        var (project, org, branch, json) = Options();
        var command = new Command("list", "A branch's custom domains, verified or not and why.") { project, org, branch, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var target = await ResolveAsync(api, parse.GetValue(project)!, parse.GetValue(org), parse.GetValue(branch)!, ct);
            var list = await api.GetAsync<DomainsApi.DomainList>(target.Path, ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(list); return 0; }
            ConsoleOutput.Table(["domain", "verified", "checked", "reason"],
                list.Domains.Select(d => (IReadOnlyList<string?>)[d.Name, d.Verified ? "yes" : "no", d.CheckedAt is null ? "never" : ConsoleOutput.Ago(d.CheckedAt), d.CheckError ?? ""]));
            if (list.Domains.Count == 0) Console.Error.WriteLine($"No domains on {target.Branch.Name} ({target.Project.Slug}).");
            return 0;
        }));
        return command;
    }

    static Command Change(string verb, string description, Func<Target, string, CancellationToken, Task<InstanceDomain>> act)
    {
        var (project, org, branch, json) = Options();
        var name = new Argument<string>("name") { Description = verb == "add" ? "The domain, e.g. erp.example.com." : "The domain (or its id)." };
        var command = new Command(verb, description) { name, project, org, branch, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var target = await ResolveAsync(api, parse.GetValue(project)!, parse.GetValue(org), parse.GetValue(branch)!, ct);
            var domain = await act(target, parse.GetValue(name)!, ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(domain); return 0; }
            Console.WriteLine(verb switch
            {
                "add" => $"Added {domain.Name} to {target.Branch.Name} ({target.Project.Slug}); point it at the server, then: odooops domains check {domain.Name} --project {target.Project.Slug} --branch {target.Branch.Name}",
                "remove" => $"Removed {domain.Name} from {target.Branch.Name} ({target.Project.Slug}).",
                _ => domain.Verified ? $"{domain.Name} points at the server: it reaches {target.Branch.Name}'s instance." : $"{domain.Name} is not verified: {domain.CheckError}",
            });
            return verb == "check" && !domain.Verified ? 3 : 0;
        }));
        return command;
    }

    static Task<InstanceDomain> AddAsync(Target t, string name, CancellationToken ct) =>
        t.Api.PostAsync<InstanceDomain>(t.Path, new DomainsApi.AddDomain(name), ct);

    static async Task<InstanceDomain> RemoveAsync(Target t, string name, CancellationToken ct)
    {
        var domain = await FindAsync(t, name, ct);
        await t.Api.DeleteAsync($"{t.Path}/{domain.Id}", ct);
        return domain;
    }

    static async Task<InstanceDomain> CheckAsync(Target t, string name, CancellationToken ct) =>
        await t.Api.PostAsync<InstanceDomain>($"{t.Path}/{(await FindAsync(t, name, ct)).Id}/check", new { }, ct);

    static async Task<InstanceDomain> FindAsync(Target t, string name, CancellationToken ct)
    {
        var wanted = DomainRules.Normalize(name);
        return (await t.Api.GetAsync<DomainsApi.DomainList>(t.Path, ct)).Domains
                   .FirstOrDefault(d => d.Name == wanted || (Guid.TryParse(name, out var id) && d.Id == id))
               ?? throw new ArgumentException($"No domain '{name}' on {t.Branch.Name} ({t.Project.Slug}): see odooops domains list.");
    }
}
