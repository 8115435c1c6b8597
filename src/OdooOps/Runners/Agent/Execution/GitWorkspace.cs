using System.Globalization;
using System.Text.RegularExpressions;

namespace OdooOps.Runners.Agent.Execution;

/// <summary>What to check out: a repository and a commit, or, without a commit, the head of a branch.</summary>
internal sealed record GitSource(string RepositoryUrl, string? Branch = null, string? CommitSha = null);

/// <summary>A checked-out workspace: its folder, the full commit SHA and the commit's subject line.</summary>
internal sealed record GitCheckout(string Directory, string CommitSha, string Subject);

internal enum GitFailure { RepositoryNotFound, RepositoryNotAllowed, BranchNotFound, CommitNotFound, CommitNotOnBranch, TimedOut, GitFailed }

/// <summary>A checkout that failed, with a one-line message naming the repository, branch or commit.</summary>
internal sealed class GitCheckoutException(GitFailure failure, string message) : Exception(message)
{
    public GitFailure Failure { get; } = failure;
}

internal sealed record GitWorkspaceOptions
{
    /// <summary>Failed builds' workspaces kept for a look; older kept ones are deleted.</summary>
    public int KeepFailed { get; init; } = 3;

    /// <summary>Limit for the whole checkout (all git commands together).</summary>
    public TimeSpan GitTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Extra variables for git (GIT_SSH_COMMAND with a deploy key, GIT_CONFIG_* settings…).</summary>
    public IReadOnlyDictionary<string, string>? GitEnvironment { get; init; }

    public ProcessOptions Process { get; init; } = ProcessOptions.Default;

    /// <summary>The build's sandbox git runs in (the workspace is handed to its uid first); null: unsandboxed.</summary>
    public Sandbox.BuildSandbox? Sandbox { get; init; }

    /// <summary>Local paths and file:// URLs (OPS_ALLOW_LOCAL_REPOS): off, a tenant could fetch any repository of the host.</summary>
    public bool AllowLocalRepositories { get; init; }

    /// <summary>The project's repository credential, for this fetch only.</summary>
    public Protocol.RunnerProtocol.GitCredential? Credential { get; init; }
}

/// <summary>
/// Build workspaces under <c>&lt;work-dir&gt;/builds/&lt;build-id&gt;</c>: a fresh git checkout per build, removed after the
/// build, except the last few failed ones. A failed workspace is marked by a sibling <c>&lt;build-id&gt;.failed</c> file
/// holding the time it failed, so workspaces of builds still running are never pruned.
/// </summary>
internal sealed partial class GitWorkspace(string workDir, GitWorkspaceOptions? options = null)
{
    readonly GitWorkspaceOptions _options = options ?? new GitWorkspaceOptions();

    public string BuildsDirectory { get; } = Path.Combine(Path.GetFullPath(workDir), "builds");

    public string PathFor(Guid buildId) => Path.Combine(BuildsDirectory, buildId.ToString("D"));

    string FailedMarker(Guid buildId) => PathFor(buildId) + ".failed";

    /// <summary>
    /// Creates the build's workspace (replacing one left by an earlier attempt) and checks the source out into it.
    /// Only the wanted commit is fetched (depth 1); when the server refuses to hand out a commit by SHA, or the SHA is
    /// abbreviated, all branches and tags are fetched instead. Git's output and the commands run reach
    /// <paramref name="onLine"/>. Throws <see cref="GitCheckoutException"/>; cancellation throws OperationCanceledException.
    /// </summary>
    public async Task<GitCheckout> CheckoutAsync(Guid buildId, GitSource source, Action<OutputLine> onLine, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(source.CommitSha) && string.IsNullOrWhiteSpace(source.Branch))
            throw new ArgumentException("A commit SHA or a branch is required.", nameof(source));
        var dir = PathFor(buildId);
        // Sandboxed, the runner's alone: workspaces (kept failed ones too) belong to builds' uids, and only their own
        // build sees one (bound into its sandbox). Unsandboxed, a step user must reach its workspace by its path.
        Directory.CreateDirectory(BuildsDirectory);
        File.SetUnixFileMode(BuildsDirectory, _options.Sandbox is null
            ? (UnixFileMode)0b111_101_101
            : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        WorkspaceFolder.Delete(dir);
        File.Delete(FailedMarker(buildId));
        Directory.CreateDirectory(dir);
        var repo = GitRunner.Redact(source.RepositoryUrl);
        var remote = RemoteFor(source.RepositoryUrl);
        var local = LocalPath(remote);
        if (local is not null && !_options.AllowLocalRepositories)
            throw new GitCheckoutException(GitFailure.RepositoryNotAllowed,
                $"Repository {repo} is on this runner's own disk: local repositories are not fetched here (the runner's operator allows them with OPS_ALLOW_LOCAL_REPOS=1).");
        var options = _options;
        if (options.Sandbox is { } sandbox)
        {
            await sandbox.OwnAsync(dir, ct);
            options = options with { Process = options.Process with { Sandbox = sandbox.Run(dir, network: true, readOnly: local is null ? [] : [local]) } };
        }

        await using var access = await GitAccess.OpenAsync(options, ct);
        var git = new GitRunner(dir, options, access.Environment, onLine, ct);
        await git.RequireAsync(["-c", "init.defaultBranch=workspace", "init", "-q"], "Creating the workspace repository");
        await git.RequireAsync(["remote", "add", "origin", remote], $"Adding remote {repo}");

        var branch = string.IsNullOrWhiteSpace(source.Branch) ? null : source.Branch.Trim();
        var sha = string.IsNullOrWhiteSpace(source.CommitSha) ? null : source.CommitSha.Trim().ToLowerInvariant();
        string[] probe = sha is null ? ["ls-remote", "--heads", "origin", $"refs/heads/{branch}"] : ["ls-remote", "origin", "HEAD"];
        var heads = await git.RunAsync(probe, echo: false);
        if (heads.ExitCode != 0)
            throw new GitCheckoutException(GitFailure.RepositoryNotFound,
                $"Repository {repo} was not found or is not accessible: {heads.LastError()}");

        string target;
        if (sha is null)
        {
            if (!heads.Lines.Any(l => l.Text.EndsWith($"\trefs/heads/{branch}", StringComparison.Ordinal)))
                throw new GitCheckoutException(GitFailure.BranchNotFound, $"Branch {branch} was not found in repository {repo}.");
            await git.RequireAsync(["fetch", "--depth", "1", "--no-tags", "origin", $"+refs/heads/{branch}:refs/remotes/origin/{branch}"],
                $"Fetching branch {branch} of {repo}");
            target = $"refs/remotes/origin/{branch}";
        }
        else
        {
            if (!ShaPattern().IsMatch(sha))
                throw new GitCheckoutException(GitFailure.CommitNotFound, $"Commit {sha} was not found in repository {repo}: not a commit SHA.");
            var direct = sha.Length == 40 && (await git.RunAsync(["fetch", "--depth", "1", "--no-tags", "origin", sha])).ExitCode == 0;
            if (!direct)
            {
                git.Say("Fetching all branches and tags to find the commit.");
                await git.RequireAsync(["fetch", "--tags", "origin", "+refs/heads/*:refs/remotes/origin/*"], $"Fetching {repo}");
            }
            var resolved = await git.RunAsync(["rev-parse", "--verify", "--quiet", $"{sha}^{{commit}}"], echo: false);
            if (resolved.ExitCode != 0 || resolved.Stdout().Length == 0)
                throw new GitCheckoutException(GitFailure.CommitNotFound, $"Commit {sha} was not found in repository {repo}.");
            target = resolved.Stdout();
        }

        if (sha is not null && branch is not null) await RequireOnBranchAsync(git, sha, target, branch, repo);

        string[] checkout = branch is null
            ? ["-c", "advice.detachedHead=false", "checkout", "-q", "--detach", target]
            : ["checkout", "-q", "-B", branch, target];
        await git.RequireAsync(checkout, $"Checking out {sha ?? branch}");
        var head = await git.RequireAsync(["log", "-1", "--format=%H%n%s"], "Reading the checked-out commit", echo: false);
        var lines = head.Lines.Where(l => l.Stream == LogStream.Stdout).Select(l => l.Text).ToList();
        return new GitCheckout(dir, lines[0], lines.Count > 1 ? lines[1] : "");
    }

    /// <summary>
    /// Ends a build's use of its workspace: deleted when the build succeeded; kept when it failed, deleting the oldest
    /// kept ones beyond <see cref="GitWorkspaceOptions.KeepFailed"/>.
    /// </summary>
    public void Release(Guid buildId, bool failed)
    {
        if (!Directory.Exists(BuildsDirectory)) return;
        if (!failed)
        {
            WorkspaceFolder.Delete(PathFor(buildId));
            File.Delete(FailedMarker(buildId));
            return;
        }
        if (!Directory.Exists(PathFor(buildId))) return;
        File.WriteAllText(FailedMarker(buildId), DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        var kept = Directory.GetFiles(BuildsDirectory, "*.failed")
            .Select(marker => (marker, failedAt: FailedAt(marker)))
            .OrderByDescending(k => k.failedAt)
            .Skip(Math.Max(0, _options.KeepFailed));
        foreach (var (marker, _) in kept)
        {
            WorkspaceFolder.Delete(marker[..^".failed".Length]);
            File.Delete(marker);
        }
    }

    static DateTimeOffset FailedAt(string marker) =>
        DateTimeOffset.TryParse(File.ReadAllText(marker), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at)
            ? at
            : File.GetLastWriteTimeUtc(marker);

    /// <summary>URLs (https://, ssh://, file://, user@host:path) stay; a plain path becomes absolute, as git runs in the workspace.</summary>
    internal static string RemoteFor(string repository)
    {
        var url = repository.Trim();
        if (url.Contains("://", StringComparison.Ordinal)) return url;
        var colon = url.IndexOf(':');
        var slash = url.IndexOf('/');
        if (colon > 0 && (slash < 0 || colon < slash)) return url; // scp-like ssh
        return Path.GetFullPath(url);
    }

    /// <summary>
    /// A build of a named branch runs only a commit of that branch: otherwise anyone who can queue a build of
    /// production (a webhook delivery, an API call) could deploy any commit of the repository — a fork's pull request
    /// included — as production. The branch is fetched 50 commits deep first, then whole if the commit is older.
    /// </summary>
    static async Task RequireOnBranchAsync(GitRunner git, string sha, string commit, string branch, string repo)
    {
        var tracking = $"refs/remotes/origin/{branch}";
        var fetch = await git.RunAsync(["fetch", "--depth", "50", "--no-tags", "origin", $"+refs/heads/{branch}:{tracking}"]);
        if (fetch.ExitCode != 0)
            throw new GitCheckoutException(GitFailure.BranchNotFound, $"Branch {branch} was not found in repository {repo}: {fetch.LastError()}");
        if ((await git.RunAsync(["merge-base", "--is-ancestor", commit, tracking], echo: false)).ExitCode == 0) return;
        var shallow = await git.RunAsync(["rev-parse", "--is-shallow-repository"], echo: false);
        if (shallow.Stdout() == "true")
        {
            await git.RequireAsync(["fetch", "--unshallow", "--no-tags", "origin", $"+refs/heads/{branch}:{tracking}"], $"Fetching branch {branch} of {repo}");
            if ((await git.RunAsync(["merge-base", "--is-ancestor", commit, tracking], echo: false)).ExitCode == 0) return;
        }
        throw new GitCheckoutException(GitFailure.CommitNotOnBranch,
            $"Commit {sha} is not on branch {branch} of repository {repo}: a build of {branch} runs only that branch's commits.");
    }

    /// <summary>The folder of a local repository (a path or a file:// URL), to let git read it; null for a remote.</summary>
    internal static string? LocalPath(string remote)
    {
        if (remote.StartsWith("file://", StringComparison.OrdinalIgnoreCase))
            return Uri.TryCreate(remote, UriKind.Absolute, out var uri) ? uri.LocalPath : remote["file://".Length..];
        return Path.IsPathRooted(remote) ? remote : null;
    }

    [GeneratedRegex("^[0-9a-f]{4,40}$")]
    private static partial Regex ShaPattern();
}
