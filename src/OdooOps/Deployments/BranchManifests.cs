using OdooOps.Runners.Agent.Execution;
using OdooOps.Runners.Agent.Pipeline;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Deployments;

/// <summary>
/// The Odoo manifests and requirements.txt at a branch's head, fetched by the server for a deploy plan without running
/// anything of the repository: a shallow, blob-less fetch of the one branch, then a sparse checkout of only
/// <c>__manifest__.py</c>, <c>__openerp__.py</c> and the root <c>requirements.txt</c> (git fetches just those blobs), read
/// by <see cref="AddonFinder"/>, which parses Python literals and never executes them. The runner's own rules apply:
/// <see cref="GitAccess"/> (the project's credential for this fetch only, no ext::, local paths only when allowed) and
/// <see cref="GitRunner"/> (one deadline, credentials redacted from every message). Bounded: <see cref="Timeout"/> for all
/// of git, <see cref="MaxBytes"/> on disk (git is stopped beyond it); the folder is deleted however it ends.
/// </summary>
internal static class BranchManifests
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    public const long MaxBytes = 256L * 1024 * 1024;

    public sealed record Head(string CommitSha, string Subject, AddonScan Scan, string? RequirementsSha256);

    /// <summary>The branch's head; throws <see cref="GitCheckoutException"/> (also for a repository beyond <paramref name="maxBytes"/>).</summary>
    /// <param name="scratchRoot">Where the scratch folder goes (default: the system's temporary folder).</param>
    public static async Task<Head> FetchAsync(string repoUrl, string branch, GitCredential? credential, bool allowLocal, CancellationToken ct,
        long maxBytes = MaxBytes, string? scratchRoot = null)
    {
        var dir = scratchRoot is null ? Directory.CreateTempSubdirectory("odooops-plan-").FullName
            : Directory.CreateDirectory(Path.Combine(scratchRoot, $"odooops-plan-{Guid.NewGuid():N}")).FullName;
        using var tooLarge = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var watch = WatchSizeAsync(dir, maxBytes, tooLarge);
        try
        {
            var options = new GitWorkspaceOptions { GitTimeout = Timeout, AllowLocalRepositories = allowLocal, Credential = credential };
            var remote = GitWorkspace.RemoteFor(repoUrl);
            var repo = GitRunner.Redact(repoUrl);
            if (GitWorkspace.LocalPath(remote) is not null && !allowLocal)
                throw new GitCheckoutException(GitFailure.RepositoryNotAllowed, $"Repository {repo} is a path on this server's disk, which it does not read.");
            await using var access = await GitAccess.OpenAsync(options, tooLarge.Token);
            var git = new GitRunner(dir, options, access.Environment, _ => { }, tooLarge.Token);
            await git.RequireAsync(["-c", "init.defaultBranch=plan", "init", "-q"], "Creating a scratch repository", echo: false);
            await git.RequireAsync(["remote", "add", "origin", remote], $"Adding remote {repo}", echo: false);
            var heads = await git.RunAsync(["ls-remote", "--heads", "origin", $"refs/heads/{branch}"], echo: false);
            if (heads.ExitCode != 0)
                throw new GitCheckoutException(GitFailure.RepositoryNotFound, $"Repository {repo} was not found or is not accessible: {heads.LastError()}");
            if (!heads.Lines.Any(l => l.Text.EndsWith($"\trefs/heads/{branch}", StringComparison.Ordinal)))
                throw new GitCheckoutException(GitFailure.BranchNotFound, $"Branch {branch} was not found in repository {repo}.");
            var tracking = $"refs/remotes/origin/{branch}";
            await git.RequireAsync(["fetch", "--depth", "1", "--no-tags", "--filter=blob:none", "origin", $"+refs/heads/{branch}:{tracking}"],
                $"Fetching branch {branch} of {repo}", echo: false);
            await git.RequireAsync(["sparse-checkout", "set", "--no-cone", $"**/{OdooManifest.FileName}", $"**/{OdooManifest.LegacyFileName}",
                "/requirements.txt"], "Choosing the manifests", echo: false);
            await git.RequireAsync(["-c", "advice.detachedHead=false", "checkout", "-q", "--detach", tracking], $"Reading the manifests of {branch}", echo: false);
            if (SizeOf(dir) > maxBytes) throw TooLarge(maxBytes); // however fast git was
            var head = await git.RequireAsync(["log", "-1", "--format=%H%n%s"], "Reading the head commit", echo: false);
            var lines = head.Lines.Where(l => l.Stream == LogStream.Stdout).Select(l => l.Text).ToList();
            return new Head(lines[0], lines.Count > 1 ? lines[1] : "", AddonFinder.Find(dir), DeployPlan.RequirementsSha256(dir));
        }
        catch (OperationCanceledException) when (tooLarge.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw TooLarge(maxBytes);
        }
        finally
        {
            await tooLarge.CancelAsync();
            await watch;
            try { WorkspaceFolder.Delete(dir); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    static GitCheckoutException TooLarge(long maxBytes) => new(GitFailure.GitFailed,
        $"Reading the branch's manifests took more than {maxBytes / 1024} KiB of the repository, so the server stopped (a build still reads it whole).");

    /// <summary>Cancels <paramref name="stop"/> when the folder grows beyond <paramref name="maxBytes"/>; ends with it.</summary>
    static async Task WatchSizeAsync(string dir, long maxBytes, CancellationTokenSource stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        try
        {
            while (await timer.WaitForNextTickAsync(stop.Token))
                if (SizeOf(dir) > maxBytes) { await stop.CancelAsync(); return; }
        }
        catch (OperationCanceledException) { }
    }

    static long SizeOf(string dir)
    {
        try
        {
            return new DirectoryInfo(dir).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 })
                .Sum(f => f.Length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return 0; }
    }
}
