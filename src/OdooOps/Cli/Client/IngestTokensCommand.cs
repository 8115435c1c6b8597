using System.CommandLine;
using OdooOps.Metrics;
using static OdooOps.Metrics.IngestTokensApi;

namespace OdooOps.Cli.Client;

/// <summary>
/// `odooops ingest-tokens list|create|revoke`: a project's tokens for its metrics agents, through
/// /api/ops/projects/{id}/ingest-tokens (project admins). A new token is printed once, on stdout alone, for a pipe.
/// </summary>
internal static class IngestTokensCommand
{
    public static Command Create()
    {
        var tokens = new Command("ingest-tokens", "A project's ingest tokens for its metrics agents: list, create, revoke (project admins; needs `odooops login`).");
        tokens.Add(List());
        tokens.Add(New());
        tokens.Add(Revoke());
        return tokens;
    }

    static Option<string> ProjectOption() => new("--project", "-p") { Description = "The project's slug or id.", Required = true };

    static Option<string?> OrgOption() => ProjectsCommand.OrgOption("The organisation, when the project's slug is used in several.");

    static Command List()
    {
        var (project, org, json) = (ProjectOption(), OrgOption(), ProjectsCommand.JsonOption());
        var command = new Command("list", "The tokens: name, preview, created, last use, revoked.") { project, org, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var target = await ProjectResolver.ResolveAsync(api, parse.GetValue(project)!, parse.GetValue(org), ct);
            var list = await api.GetAsync<IngestTokenList>($"api/ops/projects/{target.Id}/ingest-tokens", ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(list); return 0; }
            ConsoleOutput.Table(["id", "name", "token", "created", "last used", "status"], list.Tokens.Select(t => (IReadOnlyList<string?>)
                [t.Id.ToString(), t.Name + (t.RunnerId is null ? "" : " (runner)"), t.TokenPrefix + "…", ConsoleOutput.Ago(t.CreatedAt),
                 t.LastUsedAt is null ? "never" : ConsoleOutput.Ago(t.LastUsedAt), t.RevokedAt is null ? "active" : "revoked"]));
            if (list.Tokens.Count == 0) Console.Error.WriteLine($"No ingest tokens: create one with odooops ingest-tokens create -p {target.Slug} --name NAME.");
            return 0;
        }));
        return command;
    }

    static Command New()
    {
        var (project, org) = (ProjectOption(), OrgOption());
        var name = new Option<string>("--name") { Description = "What the token is for, e.g. the agent's host.", Required = true };
        var command = new Command("create", "A new token, printed once on stdout (only a hash is kept).") { project, org, name };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var target = await ProjectResolver.ResolveAsync(api, parse.GetValue(project)!, parse.GetValue(org), ct);
            var created = await api.PostAsync<NewIngestToken>($"api/ops/projects/{target.Id}/ingest-tokens", new CreateIngestToken(parse.GetValue(name)), ct);
            Console.Error.WriteLine($"Created ingest token “{created.Name}” ({created.Id}) for {target.Slug}; it is shown once:");
            Console.WriteLine(created.Token);
            return 0;
        }));
        return command;
    }

    static Command Revoke()
    {
        var (project, org) = (ProjectOption(), OrgOption());
        var id = new Argument<Guid>("token-id") { Description = "The token's id (as `odooops ingest-tokens list` prints it)." };
        var command = new Command("revoke", "Revoke a token: the ingest endpoint refuses it from now on.") { project, org, id };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var target = await ProjectResolver.ResolveAsync(api, parse.GetValue(project)!, parse.GetValue(org), ct);
            await api.DeleteAsync($"api/ops/projects/{target.Id}/ingest-tokens/{parse.GetValue(id)}", ct);
            Console.WriteLine($"Revoked ingest token {parse.GetValue(id)} of {target.Slug}.");
            return 0;
        }));
        return command;
    }
}
