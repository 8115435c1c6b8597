using OdooOps.Database;

namespace OdooOps.Tests.Runners.Agent.Execution;

/// <summary>A real git repository in a temp folder: main with three commits, feature with one more; fixed author and dates.</summary>
public sealed class TestRepository : IDisposable
{
    public string Dir { get; } = ProcessProbe.NewTempDir("odooops-repo");
    public string FileUrl => "file://" + Dir;
    public List<string> MainCommits { get; } = [];
    public string FeatureCommit { get; private set; } = "";

    static readonly Dictionary<string, string> Env = new()
    {
        ["GIT_AUTHOR_NAME"] = "Test Author",
        ["GIT_AUTHOR_EMAIL"] = "author@example.test",
        ["GIT_AUTHOR_DATE"] = "2024-01-01T00:00:00Z",
        ["GIT_COMMITTER_NAME"] = "Test Author",
        ["GIT_COMMITTER_EMAIL"] = "author@example.test",
        ["GIT_COMMITTER_DATE"] = "2024-01-01T00:00:00Z",
        ["GIT_CONFIG_GLOBAL"] = "/dev/null",
        ["GIT_CONFIG_NOSYSTEM"] = "1",
    };

    public static async Task<TestRepository> CreateAsync()
    {
        var repo = new TestRepository();
        await repo.GitAsync("init", "-q", "-b", "main");
        foreach (var n in new[] { "first", "second", "third" })
            repo.MainCommits.Add(await repo.CommitAsync(n));
        await repo.GitAsync("checkout", "-q", "-b", "feature");
        repo.FeatureCommit = await repo.CommitAsync("feature work");
        await repo.GitAsync("checkout", "-q", "main");
        return repo;
    }

    async Task<string> CommitAsync(string subject)
    {
        await File.WriteAllTextAsync(Path.Combine(Dir, "state.txt"), subject);
        await GitAsync("add", "state.txt");
        await GitAsync("commit", "-q", "-m", subject, "-m", "A body line that is not the subject.");
        return await GitAsync("rev-parse", "HEAD");
    }

    /// <summary>Writes the files (paths relative to the repository) and commits them on the current branch; returns the SHA.</summary>
    public async Task<string> CommitFilesAsync(string subject, params (string Path, string Content)[] files)
    {
        foreach (var (path, content) in files)
        {
            var full = Path.Combine(Dir, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            await File.WriteAllTextAsync(full, content);
            await GitAsync("add", path);
        }
        await GitAsync("commit", "-q", "-m", subject);
        return await GitAsync("rev-parse", "HEAD");
    }

    public async Task<string> GitAsync(params string[] args)
    {
        var result = await ProcessRunner.RunAsync("git", ["-C", Dir, .. args], Env, CancellationToken.None);
        Assert.True(result.ExitCode == 0, $"git {string.Join(' ', args)}: {result.Describe()}");
        return result.Output.Trim();
    }

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}
