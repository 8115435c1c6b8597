using System.CommandLine;
using OdooOps.Projects;
using static OdooOps.Projects.RepoCredentialsApi;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Cli.Client;

/// <summary>
/// `odooops projects credential PROJECT [--token-stdin [--username U] | --ssh-key-file F | --clear]`: the repository
/// credential builds fetch with, through PUT/DELETE /api/ops/projects/{id}/repo-credential (project admins). The secret
/// comes from stdin or a file, never from a flag (shell history, `ps`), and is never printed.
/// </summary>
internal static class RepoCredentialCommand
{
    public static Command Create()
    {
        var project = new Argument<string>("project") { Description = "The project's slug or id." };
        var org = ProjectsCommand.OrgOption("The organisation's slug, when the project's slug is used in several.");
        var tokenStdin = new Option<bool>("--token-stdin") { Description = "Set a token, read from the first line of stdin (https repositories)." };
        var username = new Option<string?>("--username") { Description = "The token's user name (default x-access-token; GitLab deploy tokens have their own)." };
        var keyFile = new Option<FileInfo?>("--ssh-key-file") { Description = "Set an SSH private key without a passphrase, read from this file (ssh repositories)." };
        var clear = new Option<bool>("--clear") { Description = "Remove the credential: builds fetch without one." };
        var json = ProjectsCommand.JsonOption();
        var command = new Command("credential", "Show, set or remove the git credential a project's builds fetch with (project admins).")
            { project, org, tokenStdin, username, keyFile, clear, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            var chosen = new[] { parse.GetValue(tokenStdin), parse.GetValue(keyFile) is not null, parse.GetValue(clear) }.Count(b => b);
            if (chosen > 1) throw new ArgumentException("--token-stdin, --ssh-key-file and --clear exclude each other.");
            if (parse.GetValue(username) is not null && !parse.GetValue(tokenStdin)) throw new ArgumentException("--username goes with --token-stdin.");
            RepoCredentialBody? body = parse.GetValue(tokenStdin)
                ? new(GitCredential.Token, parse.GetValue(username), SecretInput.ReadStdinLine("token"))
                : parse.GetValue(keyFile) is { } file ? new(GitCredential.SshKey, null, await ReadKeyAsync(file, ct))
                : null;

            using var api = ApiClient.FromConfig();
            var target = await ProjectResolver.ResolveAsync(api, parse.GetValue(project)!, parse.GetValue(org), ct);
            var path = $"api/ops/projects/{target.Id}/repo-credential";
            if (parse.GetValue(clear)) await api.DeleteAsync(path, ct);
            var info = body is null
                ? await api.GetAsync<RepoCredentialInfo>(path, ct)
                : await api.PutAsync<RepoCredentialInfo>(path, body, ct);
            if (parse.GetValue(json)) ConsoleOutput.Json(info);
            else Console.WriteLine(info.Set
                ? $"{target.Slug}: builds fetch with {(info.Kind == GitCredential.Token ? "a token" : "an SSH key")}{(info.Username is { } u ? $" for {u}" : "")}, set {ConsoleOutput.Ago(info.SetAt)}."
                : $"{target.Slug}: no repository credential; builds fetch without one.");
            return 0;
        }));
        return command;
    }

    static async Task<string> ReadKeyAsync(FileInfo file, CancellationToken ct)
    {
        if (!file.Exists) throw new ArgumentException($"No such file: {file.FullName}");
        if (file.Length > RepoCredentialRules.MaxKeyLength) throw new ArgumentException($"{file.FullName} is too large for an SSH private key.");
        return await File.ReadAllTextAsync(file.FullName, ct);
    }
}
