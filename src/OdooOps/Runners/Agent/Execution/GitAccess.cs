using System.Text;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Runners.Agent.Execution;

/// <summary>
/// What git may use for one checkout: which transports (never ext::, file:// and local paths only when the runner's
/// operator allows them) and the project's own credential — never the runner's SSH key or agent. A token goes in an
/// HTTP header set through git's environment (not its command line, not a file a later step could read); an SSH key
/// is written 0600 for the checkout and deleted when it ends, before any step runs.
/// </summary>
internal sealed class GitAccess : IAsyncDisposable
{
    readonly string? _keyFile;

    GitAccess(IReadOnlyDictionary<string, string> environment, string? keyFile) => (Environment, _keyFile) = (environment, keyFile);

    public IReadOnlyDictionary<string, string> Environment { get; }

    public static async Task<GitAccess> OpenAsync(GitWorkspaceOptions options, CancellationToken ct)
    {
        var config = new List<(string Key, string Value)>
        {
            ("protocol.ext.allow", "never"),
            ("protocol.file.allow", options.AllowLocalRepositories ? "always" : "never"),
        };
        // A local repository belongs to another uid than the build's, and git reads safe.directory from its global
        // configuration only (the local transport's upload-pack drops the GIT_CONFIG_* variables).
        if (options.Sandbox is { } box && options.AllowLocalRepositories)
            await box.WriteHomeFileAsync(".gitconfig", "[safe]\n\tdirectory = *\n", ct);
        var ssh = "ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o IdentityAgent=none -o IdentitiesOnly=yes";
        string? keyFile = null;
        switch (options.Credential)
        {
            case { Kind: GitCredential.Token } token:
                var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{(string.IsNullOrEmpty(token.Username) ? "x-access-token" : token.Username)}:{token.Secret}"));
                config.Add(("http.extraHeader", $"Authorization: Basic {basic}"));
                break;
            case { Kind: GitCredential.SshKey } key:
                var (hostPath, seenAs) = options.Sandbox is { } sandbox
                    ? await sandbox.WriteHomeFileAsync(".ssh/odooops-repository-key", key.Secret.TrimEnd() + "\n", ct)
                    : await WriteTempKeyAsync(key.Secret, ct);
                keyFile = hostPath;
                ssh += $" -i {seenAs}";
                break;
            case { } other:
                throw new GitCheckoutException(GitFailure.GitFailed, $"Unknown repository credential kind '{other.Kind}'.");
        }
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["GIT_TERMINAL_PROMPT"] = "0",
            ["GIT_SSH_COMMAND"] = ssh,
            ["GIT_CONFIG_NOSYSTEM"] = "1",
            ["GIT_CONFIG_COUNT"] = config.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["LC_ALL"] = "C", // git's messages in English, as the build log and errors show them
        };
        for (var i = 0; i < config.Count; i++)
        {
            env[$"GIT_CONFIG_KEY_{i}"] = config[i].Key;
            env[$"GIT_CONFIG_VALUE_{i}"] = config[i].Value;
        }
        return new GitAccess(env, keyFile);
    }

    static async Task<(string, string)> WriteTempKeyAsync(string key, CancellationToken ct)
    {
        var dir = Directory.CreateTempSubdirectory("odooops-git-").FullName;
        var path = Path.Combine(dir, "key");
        await using (var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
            await file.WriteAsync(Encoding.UTF8.GetBytes(key.TrimEnd() + "\n"), ct);
        return (path, path);
    }

    public ValueTask DisposeAsync()
    {
        if (_keyFile is not null && File.Exists(_keyFile)) File.Delete(_keyFile);
        return ValueTask.CompletedTask;
    }
}
