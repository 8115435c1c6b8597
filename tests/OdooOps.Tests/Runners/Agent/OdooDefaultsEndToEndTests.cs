using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Runners.Agent;

/// <summary>
/// The Odoo-aware default pipeline run for real by a runner whose odoo-bin is a stand-in script that prints its
/// arguments: development installs with tests, and production installs new modules and updates only those that are
/// new or whose version changed since the branch's last successful build — nothing at all when none changed.
/// </summary>
public sealed class OdooDefaultsEndToEndTests(PostgresCluster cluster) : IAsyncLifetime
{
    RunnerWorld _world = null!;
    readonly CancellationTokenSource _stop = new();
    Task _runner = Task.CompletedTask;
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public async ValueTask InitializeAsync()
    {
        _world = await RunnerWorld.StartAsync(cluster);
        // In a folder of its own, as Odoo's source tree is: the sandbox lets builds read the folder odoo-bin is in.
        var odooBin = Path.Combine(Directory.CreateDirectory(Path.Combine(_world.WorkDir, "odoo")).FullName, "odoo-bin");
        await File.WriteAllTextAsync(odooBin, "#!/bin/sh\necho \"odoo-bin $*\"\n");
        // Readable and executable by all, as an installed Odoo is: builds run as uids of their own.
        File.SetUnixFileMode(odooBin, (UnixFileMode)0b111_101_101);
        _runner = await _world.StartRunnerAsync(_stop.Token, odooBin: odooBin);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _runner;
        await _world.DisposeAsync();
    }

    static (string, string) Manifest(string module, string version) =>
        ($"addons/{module}/__manifest__.py", $"{{'name': '{module}', 'version': '{version}', 'depends': ['base'], 'installable': True}}");

    /// <summary>Builds the commit on the branch; the odoo-bin lines of its log (or the "nothing to update" line).</summary>
    async Task<string> OdooLineAsync(string branch, string commit)
    {
        // A branch builds only its own commits: the repository's branch points at the commit, as a push would leave it.
        if (branch != "main") await _world.Repo.GitAsync("branch", "-f", branch, commit);
        var id = await _world.QueueBuildAsync(branch, commit);
        var build = await _world.WaitForAsync(id, Patience);
        var log = await _world.LogAsync(id);
        Assert.True(build.Status == "success", string.Join("\n", log));
        return string.Join("\n", log.Where(l => l.StartsWith("stdout: odoo-bin ", StringComparison.Ordinal) || l.Contains("nothing to update")));
    }

    [Fact]
    public async Task Production_updates_only_new_or_changed_modules_since_its_last_successful_build()
    {
        var first = await _world.Repo.CommitFilesAsync("two addons", Manifest("sale_extra", "19.0.1.0.0"), Manifest("stock_extra", "19.0.1.0.0"));
        Assert.Contains("-i sale_extra,stock_extra -u sale_extra,stock_extra --stop-after-init", await OdooLineAsync("main", first));
        // Another branch's build does not count as what production runs.
        Assert.Contains("--test-enable", await OdooLineAsync("feature-x", first));

        var next = await _world.Repo.CommitFilesAsync("a new version and a new addon", Manifest("stock_extra", "19.0.1.1.0"), Manifest("web_extra", "19.0.1.0.0"));
        var second = await OdooLineAsync("main", next);
        Assert.Contains("-i web_extra -u stock_extra,web_extra --stop-after-init", second);
        Assert.Contains($"--database=oo-app-{_world.ProjectId:N} ", second); // the project's own database, updated build after build
        Assert.DoesNotContain("sale_extra", second);

        Assert.Contains("nothing to update", await OdooLineAsync("main", next));
    }

    [Fact]
    public async Task Development_installs_the_modules_with_their_tests()
    {
        var commit = await _world.Repo.CommitFilesAsync("an addon", Manifest("sale_extra", "19.0.1.0.0"));
        var line = await OdooLineAsync("feature-x", commit);
        Assert.Contains("-i base --stop-after-init", line);
        Assert.Contains("-i sale_extra --test-enable --stop-after-init --log-level=test", line);
    }

    [Theory]
    [InlineData("app", "0b7f4d2c9e8a4f1b8c3d2e1f0a9b8c7d")]
    [InlineData("a-project-slug-far-longer-than-the-room-postgres-leaves-for-a-database-name", "0b7f4d2c9e8a4f1b8c3d2e1f0a9b8c7d")]
    [InlineData("app", "main")]
    [InlineData("app", "release/19.0")]
    [InlineData("a-project-slug-far-longer-than-the-room-postgres-leaves-for-a-database-name", "release/19.0-with-a-branch-name-longer-than-32")]
    public void Odoo_database_names_keep_their_unique_part_within_postgres_name_limits(string slug, string unique)
    {
        var name = OdooOps.Runners.Agent.BuildExecutor.OdooDatabaseName(slug, unique);
        Assert.InRange(name.Length, 1, 63);
        Assert.StartsWith("oo-" + slug[..Math.Min(slug.Length, 5)], name);
        Assert.Matches("^[a-zA-Z0-9][a-zA-Z0-9_.-]+$", name); // what Odoo accepts
        if (unique.Length <= 32) Assert.EndsWith("-" + unique.Replace('/', '-'), name);
        else Assert.NotEqual(name, OdooOps.Runners.Agent.BuildExecutor.OdooDatabaseName(slug, unique + "x"));
    }
}
