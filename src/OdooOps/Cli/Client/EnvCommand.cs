using System.CommandLine;
using OdooOps.EnvVars;
using static OdooOps.EnvVars.EnvVarsApi;

namespace OdooOps.Cli.Client;

/// <summary>
/// `odooops env list|set|unset`: a project's environment variables per stage, through /api/ops/projects/{id}/env. A
/// secret's value comes from stdin (or a prompt without echo), never from the command line (shell history, `ps`), and is
/// never printed. After a change, the instances that run with older variables are named, with the command that restarts them.
/// </summary>
internal static class EnvCommand
{
    public static Command Create()
    {
        var env = new Command("env", "A project's environment variables per stage: list, set, unset (needs `odooops login`).");
        env.Add(List());
        env.Add(Set());
        env.Add(Unset());
        return env;
    }

    static Option<string> ProjectOption() => new("--project", "-p") { Description = "The project's slug or id.", Required = true };

    static Option<string> StageOption(bool required) => new("--stage", "-s")
    {
        Description = $"The stage: {string.Join(", ", EnvVarRules.Stages)}.", Required = required,
    };

    static Argument<string> NameArgument() => new("name") { Description = "The variable's name, e.g. SMTP_PASSWORD." };

    static Command List()
    {
        var (project, stage, org, json) = (ProjectOption(), StageOption(required: false), ProjectsCommand.OrgOption("The organisation, when the project's slug is used in several."),
            ProjectsCommand.JsonOption());
        var command = new Command("list", "The variables (secrets: only that they are set, when and by whom) and the instances that need a restart.")
            { project, stage, org, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var target = await ProjectResolver.ResolveAsync(api, parse.GetValue(project)!, parse.GetValue(org), ct);
            var query = parse.GetValue(stage) is { } s ? $"?stage={Uri.EscapeDataString(s)}" : "";
            var list = await api.GetAsync<EnvList>($"api/ops/projects/{target.Id}/env{query}", ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(list); return 0; }
            ConsoleOutput.Table(["stage", "name", "value", "updated", "by"], list.Variables.Select(v => (IReadOnlyList<string?>)
                [v.Stage, v.Name, v.Secret ? "(secret, set)" : v.Value, ConsoleOutput.Ago(v.UpdatedAt), v.UpdatedByName ?? "the server"]));
            if (list.Variables.Count == 0)
                Console.Error.WriteLine($"No variables: add one with odooops env set -p {target.Slug} -s staging NAME VALUE (a secret: --secret, its value on stdin).");
            RestartHint(list.RestartNeeded);
            return 0;
        }));
        return command;
    }

    static Command Set()
    {
        var (project, stage, name) = (ProjectOption(), StageOption(required: true), NameArgument());
        var value = new Argument<string?>("value") { Description = "A plain variable's value (default: read from stdin). Never a secret's.", Arity = ArgumentArity.ZeroOrOne };
        var secret = new Option<bool>("--secret") { Description = "A secret: its value is read from stdin (or asked without echo), kept encrypted, never shown again." };
        var plain = new Option<bool>("--plain") { Description = "Make a secret variable plain again (with its new value)." };
        var org = ProjectsCommand.OrgOption("The organisation, when the project's slug is used in several.");
        var json = ProjectsCommand.JsonOption();
        var command = new Command("set", "Add or change a variable; prints the instances that now run with older variables.")
            { project, stage, name, value, secret, plain, org, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            if (parse.GetValue(secret) && parse.GetValue(plain)) throw new ArgumentException("--secret and --plain exclude each other.");
            if (parse.GetValue(secret) && parse.GetValue(value) is not null)
                throw new ArgumentException("A secret's value is never given on the command line (shell history, ps): pipe it into stdin instead.");
            var given = parse.GetValue(value) ?? ReadValue(parse.GetValue(secret));
            using var api = ApiClient.FromConfig();
            var target = await ProjectResolver.ResolveAsync(api, parse.GetValue(project)!, parse.GetValue(org), ct);
            var body = new EnvVarBody(given, parse.GetValue(secret) ? true : parse.GetValue(plain) ? false : null);
            var saved = await api.PutAsync<EnvVarSaved>(VariablePath(target.Id, parse.GetValue(stage)!, parse.GetValue(name)!), body, ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(saved); return 0; }
            Console.WriteLine($"{target.Slug} {saved.Variable.Stage}: {saved.Variable.Name} set{(saved.Variable.Secret ? " (secret)" : "")}.");
            RestartHint(saved.RestartNeeded);
            return 0;
        }));
        return command;
    }

    static Command Unset()
    {
        var (project, stage, name) = (ProjectOption(), StageOption(required: true), NameArgument());
        var org = ProjectsCommand.OrgOption("The organisation, when the project's slug is used in several.");
        var command = new Command("unset", "Remove a variable; prints the instances that still run with it.") { project, stage, name, org };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var target = await ProjectResolver.ResolveAsync(api, parse.GetValue(project)!, parse.GetValue(org), ct);
            using var response = await api.RawAsync(HttpMethod.Delete, VariablePath(target.Id, parse.GetValue(stage)!, parse.GetValue(name)!), null, ct);
            if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
                throw new ApiException(response.StatusCode, $"No variable {parse.GetValue(name)} on {parse.GetValue(stage)} of {target.Slug}.");
            if (!response.IsSuccessStatusCode) throw new ApiException(response.StatusCode, await ApiClient.DescribeAsync(response, ct));
            var removed = await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<EnvVarRemoved>(response.Content, ApiClient.Json, ct);
            Console.WriteLine($"{target.Slug} {parse.GetValue(stage)}: {parse.GetValue(name)} removed.");
            RestartHint(removed?.RestartNeeded ?? []);
            return 0;
        }));
        return command;
    }

    static string VariablePath(Guid project, string stage, string name) =>
        $"api/ops/projects/{project}/env/{Uri.EscapeDataString(stage)}/{Uri.EscapeDataString(name)}";

    /// <summary>The value from stdin (all of it, one final line ending dropped), or asked on a terminal (without echo for a secret).</summary>
    static string ReadValue(bool secret)
    {
        if (!Console.IsInputRedirected) return SecretInput.Prompt("Value", echo: !secret, instead: "a pipe into stdin");
        var text = Console.In.ReadToEnd();
        text = text.EndsWith("\r\n", StringComparison.Ordinal) ? text[..^2] : text.EndsWith('\n') ? text[..^1] : text;
        if (secret && text.Length == 0) throw new ArgumentException("Expected the secret's value on stdin, found nothing.");
        return text;
    }

    static void RestartHint(IReadOnlyList<RestartNeeded> instances)
    {
        if (instances.Count == 0) return;
        Console.WriteLine($"{instances.Count} instance{(instances.Count == 1 ? "" : "s")} still run{(instances.Count == 1 ? "s" : "")} with the older variables; restart to apply:");
        foreach (var i in instances)
            Console.WriteLine($"  {i.Branch} ({i.Stage}, {i.State}): odooops instances restart {i.InstanceId}{(i.Stage == "production" ? " --yes" : "")}");
    }
}
