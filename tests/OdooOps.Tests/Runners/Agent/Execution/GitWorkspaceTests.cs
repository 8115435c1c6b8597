using OdooOps.Runners.Agent.Execution;

namespace OdooOps.Tests.Runners.Agent.Execution;

/// <summary>Checkouts from real repositories made with git init, the three "not found" errors, and workspace clean-up.</summary>
public sealed class GitWorkspaceTests : IAsyncLifetime
{
    readonly string _workDir = ProcessProbe.NewTempDir("odooops-work");
    readonly LineRecorder _recorder = new();
    TestRepository _repo = null!;

    public async ValueTask InitializeAsync() => _repo = await TestRepository.CreateAsync();

    public ValueTask DisposeAsync()
    {
        _repo.Dispose();
        Directory.Delete(_workDir, recursive: true);
        return ValueTask.CompletedTask;
    }

    // The test repositories are local folders: allowed, as OPS_ALLOW_LOCAL_REPOS=1 allows them.
    GitWorkspace Workspace(GitWorkspaceOptions? options = null) =>
        new(_workDir, (options ?? new GitWorkspaceOptions()) with { AllowLocalRepositories = true });

    Task<GitCheckout> CheckoutAsync(GitSource source, GitWorkspaceOptions? options = null, Guid? build = null) =>
        Workspace(options).CheckoutAsync(build ?? Guid.NewGuid(), source, _recorder.Add);

    static string Content(GitCheckout checkout) => File.ReadAllText(Path.Combine(checkout.Directory, "state.txt"));

    [Fact]
    public async Task Checks_out_a_branch_head_from_a_file_url_into_the_builds_folder()
    {
        var build = Guid.NewGuid();
        var checkout = await CheckoutAsync(new GitSource(_repo.FileUrl, Branch: "main"), build: build);
        Assert.Equal(Path.Combine(_workDir, "builds", build.ToString()), checkout.Directory);
        Assert.Equal(_repo.MainCommits[^1], checkout.CommitSha);
        Assert.Equal("third", checkout.Subject);
        Assert.Equal("third", Content(checkout));
        // The build log shows the clone: the commands run and git's own output.
        Assert.Contains(_recorder.Lines, l => l.Stream == LogStream.System && l.Text.StartsWith("$ git fetch --depth 1", StringComparison.Ordinal));
        Assert.Contains(_recorder.Lines, l => l.Stream == LogStream.Stderr && l.Text.StartsWith("From file://", StringComparison.Ordinal));
        // Only the one commit was fetched.
        Assert.True(File.Exists(Path.Combine(checkout.Directory, ".git", "shallow")));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_local_repository_is_refused_unless_the_runners_operator_allows_it(bool fileUrl)
    {
        var unallowed = new GitWorkspace(_workDir);
        var e = await Assert.ThrowsAsync<GitCheckoutException>(() =>
            unallowed.CheckoutAsync(Guid.NewGuid(), new GitSource(fileUrl ? _repo.FileUrl : _repo.Dir, Branch: "main"), _recorder.Add));
        Assert.Equal(GitFailure.RepositoryNotAllowed, e.Failure);
        Assert.Contains("OPS_ALLOW_LOCAL_REPOS=1", e.Message);
        Assert.DoesNotContain(_recorder.Lines, l => l.Text.StartsWith("$ git fetch", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Git_never_runs_a_command_named_by_an_ext_url()
    {
        var marker = Path.Combine(_workDir, "pwned");
        var e = await Assert.ThrowsAsync<GitCheckoutException>(() => CheckoutAsync(new GitSource($"ext::sh -c touch% {marker}", Branch: "main")));
        Assert.Equal(GitFailure.RepositoryNotFound, e.Failure);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public async Task Checks_out_a_branch_head_from_a_plain_local_path()
    {
        var checkout = await CheckoutAsync(new GitSource(_repo.Dir, Branch: "feature"));
        Assert.Equal(_repo.FeatureCommit, checkout.CommitSha);
        Assert.Equal("feature work", checkout.Subject);
    }

    [Fact]
    public async Task Checks_out_a_commit_that_is_not_a_head()
    {
        var checkout = await CheckoutAsync(new GitSource(_repo.FileUrl, Branch: "main", CommitSha: _repo.MainCommits[0]));
        Assert.Equal(_repo.MainCommits[0], checkout.CommitSha);
        Assert.Equal("first", checkout.Subject);
        Assert.Equal("first", Content(checkout));
    }

    [Fact]
    public async Task Falls_back_to_fetching_all_branches_when_the_server_refuses_a_sha()
    {
        // Protocol v0 servers only hand out advertised refs, so the fetch by SHA fails and the fallback must find it.
        var v0 = new GitWorkspaceOptions
        {
            GitEnvironment = new Dictionary<string, string>
            {
                ["GIT_CONFIG_COUNT"] = "1", ["GIT_CONFIG_KEY_0"] = "protocol.version", ["GIT_CONFIG_VALUE_0"] = "0",
            },
        };
        var checkout = await CheckoutAsync(new GitSource(_repo.Dir, CommitSha: _repo.MainCommits[1]), v0);
        Assert.Equal(_repo.MainCommits[1], checkout.CommitSha);
        Assert.Equal("second", Content(checkout));
        Assert.Contains(_recorder.Lines, l => l.Text.Contains("Fetching all branches"));
    }

    [Fact]
    public async Task An_abbreviated_sha_resolves_to_the_full_one()
    {
        var checkout = await CheckoutAsync(new GitSource(_repo.FileUrl, CommitSha: _repo.FeatureCommit[..10].ToUpperInvariant()));
        Assert.Equal(_repo.FeatureCommit, checkout.CommitSha);
        Assert.Equal("feature work", checkout.Subject);
    }

    [Fact]
    public async Task A_missing_repository_is_named()
    {
        var missing = Path.Combine(_workDir, "no-such-repo");
        var error = await Assert.ThrowsAsync<GitCheckoutException>(() => CheckoutAsync(new GitSource(missing, Branch: "main")));
        Assert.Equal(GitFailure.RepositoryNotFound, error.Failure);
        Assert.Equal($"Repository {missing} was not found or is not accessible: fatal: '{missing}' does not appear to be a git repository", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task A_missing_branch_is_named()
    {
        // "main" tail-matches refs/heads/x/main in ls-remote: the check must be exact.
        await _repo.GitAsync("branch", "team/nope");
        var error = await Assert.ThrowsAsync<GitCheckoutException>(() => CheckoutAsync(new GitSource(_repo.FileUrl, Branch: "nope")));
        Assert.Equal(GitFailure.BranchNotFound, error.Failure);
        Assert.Equal($"Branch nope was not found in repository {_repo.FileUrl}.", error.Message);
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef01234567")]
    [InlineData("0123456")]
    [InlineData("not-a-sha")]
    public async Task A_missing_commit_is_named(string sha)
    {
        var error = await Assert.ThrowsAsync<GitCheckoutException>(() => CheckoutAsync(new GitSource(_repo.FileUrl, Branch: "main", CommitSha: sha)));
        Assert.Equal(GitFailure.CommitNotFound, error.Failure);
        Assert.StartsWith($"Commit {sha} was not found in repository {_repo.FileUrl}", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task A_hanging_git_is_stopped_at_the_timeout()
    {
        var hanging = new GitWorkspaceOptions
        {
            GitTimeout = TimeSpan.FromSeconds(1),
            GitEnvironment = new Dictionary<string, string> { ["GIT_SSH_COMMAND"] = "sleep 60 #" },
            Process = new ProcessOptions { KillGrace = TimeSpan.FromSeconds(1) },
        };
        var started = DateTime.UtcNow;
        var error = await Assert.ThrowsAsync<GitCheckoutException>(() =>
            CheckoutAsync(new GitSource("ssh://git@example.invalid/repo.git", Branch: "main"), hanging));
        Assert.Equal(GitFailure.TimedOut, error.Failure);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Credentials_in_the_url_stay_out_of_the_log_and_errors()
    {
        var url = "https://user:s3cret-token@127.0.0.1:9/repo.git"; // nothing listens on port 9
        var error = await Assert.ThrowsAsync<GitCheckoutException>(() => CheckoutAsync(new GitSource(url, Branch: "main")));
        Assert.Equal(GitFailure.RepositoryNotFound, error.Failure);
        Assert.DoesNotContain("s3cret-token", error.Message);
        Assert.Contains("unable to access", error.Message);
        Assert.DoesNotContain(_recorder.Lines, l => l.Text.Contains("s3cret-token"));
        Assert.Contains(_recorder.Lines, l => l.Text.Contains("https://***@127.0.0.1:9/repo.git"));
    }

    [Fact]
    public async Task A_succeeded_build_leaves_no_workspace_and_the_last_failed_ones_are_kept()
    {
        var workspace = Workspace(new GitWorkspaceOptions { KeepFailed = 2 });
        var ok = Guid.NewGuid();
        await workspace.CheckoutAsync(ok, new GitSource(_repo.Dir, Branch: "main"), _recorder.Add);
        workspace.Release(ok, failed: false);
        Assert.False(Directory.Exists(workspace.PathFor(ok)));

        var running = Guid.NewGuid();
        await workspace.CheckoutAsync(running, new GitSource(_repo.Dir, Branch: "main"), _recorder.Add);
        var failed = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            var build = Guid.NewGuid();
            await workspace.CheckoutAsync(build, new GitSource(_repo.Dir, Branch: "main"), _recorder.Add);
            // A build may leave read-only folders behind; clean-up must still work.
            File.SetUnixFileMode(Path.Combine(workspace.PathFor(build), ".git"), UnixFileMode.UserRead | UnixFileMode.UserExecute);
            workspace.Release(build, failed: true);
            failed.Add(build);
        }
        Assert.Equal([false, false, true, true], failed.Select(b => Directory.Exists(workspace.PathFor(b))));
        Assert.True(Directory.Exists(workspace.PathFor(running)), "a running build's workspace is never pruned");
        Assert.Equal(
            new[] { running, failed[2], failed[3] }.Select(b => b.ToString()).Order(),
            Directory.GetDirectories(workspace.BuildsDirectory).Select(Path.GetFileName).Order());
    }

    [Fact]
    public async Task A_requeued_build_gets_a_fresh_workspace()
    {
        var workspace = Workspace();
        var build = Guid.NewGuid();
        var first = await workspace.CheckoutAsync(build, new GitSource(_repo.Dir, Branch: "main"), _recorder.Add);
        await File.WriteAllTextAsync(Path.Combine(first.Directory, "leftover.txt"), "from attempt 1");
        workspace.Release(build, failed: true);
        var second = await workspace.CheckoutAsync(build, new GitSource(_repo.Dir, Branch: "feature"), _recorder.Add);
        Assert.Equal(first.Directory, second.Directory);
        Assert.False(File.Exists(Path.Combine(second.Directory, "leftover.txt")));
        Assert.False(File.Exists(second.Directory + ".failed"));
        Assert.Equal("feature work", Content(second));
    }
}
