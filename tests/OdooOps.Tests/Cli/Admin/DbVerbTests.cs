using Dapper;
using Npgsql;
using OdooOps.Database;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Cli.Admin;

/// <summary>`odooops db …` and `odooops seed` as a user runs them: a separate process, exit codes, one-line errors.</summary>
public sealed class DbVerbTests(PostgresCluster cluster)
{
    static string Url(NpgsqlConnectionStringBuilder cs) =>
        $"postgresql://{cs.Username}:{Uri.EscapeDataString(cs.Password!)}@{cs.Host}:{cs.Port}/{cs.Database}";

    [Fact]
    public async Task Verify_prints_all_green_and_exits_zero()
    {
        var cs = await cluster.CreateDatabaseAsync("cliverify");
        var r = await CliRunner.RunAsync(["db", "verify", "--database-url", Url(cs)]);
        Assert.True(r.ExitCode == 0, r.Output + r.Error);
        Assert.Contains("checks passed", r.Output);
        Assert.DoesNotContain("✗", r.Output);
    }

    [Fact]
    public async Task Migrate_status_and_a_second_migrate()
    {
        var cs = await cluster.CreateEmptyDatabaseAsync("climigrate");
        var first = await CliRunner.RunAsync(["db", "migrate", "--database-url", Url(cs)]);
        Assert.True(first.ExitCode == 0, first.Error);
        Assert.Contains($"Applied {Migrator.EmbeddedScripts().Count} migration(s).", first.Output);
        Assert.DoesNotContain("Backup written", first.Output); // nothing to lose in an empty database

        Assert.Contains($"applied {SqlObjects.EmbeddedScripts().Count} SQL files", first.Output);

        var second = await CliRunner.RunAsync(["db", "migrate", "--database-url", Url(cs)]);
        Assert.Contains("Database is up to date.", second.Output);
        Assert.DoesNotContain("SQL files", second.Output); // nothing changed: no table is locked for nothing

        var status = await CliRunner.RunAsync(["db", "status", "--database-url", Url(cs)]);
        Assert.Equal(0, status.ExitCode);
        Assert.Contains($"{Migrator.EmbeddedScripts().Count}/{Migrator.EmbeddedScripts().Count} applied", status.Output);
        Assert.Contains($"SQL objects: as their {SqlObjects.EmbeddedScripts().Count} files say", status.Output);
    }

    [Fact]
    public async Task Migrate_backs_up_a_database_holding_data_and_restore_brings_it_back()
    {
        var cs = await cluster.CreateEmptyDatabaseAsync("clibackup");
        var scripts = Migrator.EmbeddedScripts();
        // The schema of the previous version: its migrations only (today's SQL files may name tables it does not have yet).
        await new Migrator(cs.ConnectionString).MigrateAsync(scripts: [.. scripts.Take(scripts.Count - 1)], sqlObjects: []);
        await using var conn = new NpgsqlConnection(cs.ConnectionString);
        await conn.ExecuteAsync("insert into registry.orgs (name) values ('Keep Me')");
        var dataDir = Path.Combine(Path.GetTempPath(), $"odooops-cli-{Guid.NewGuid():N}");
        try
        {
            var migrate = await CliRunner.RunAsync(["db", "migrate", "--database-url", Url(cs), "--data-dir", dataDir]);
            Assert.True(migrate.ExitCode == 0, migrate.Error);
            var line = migrate.Output.Split('\n').Single(l => l.StartsWith("Backup written before migrating: "));
            var backup = line["Backup written before migrating: ".Length..].Trim();
            Assert.StartsWith(Path.Combine(dataDir, "backups"), backup);
            Assert.True(File.Exists(backup));

            await conn.ExecuteAsync("delete from registry.orgs");
            var restore = await CliRunner.RunAsync(["db", "restore", backup, "--database-url", Url(cs)]);
            Assert.True(restore.ExitCode == 0, restore.Error);
            Assert.Equal("Keep Me", await conn.ExecuteScalarAsync<string>("select name from registry.orgs"));
            // The backup predates the last script: the journal says so, and migrate applies it again.
            Assert.Contains("pending", (await CliRunner.RunAsync(["db", "status", "--database-url", Url(cs)])).Output);
        }
        finally { Directory.Delete(dataDir, recursive: true); }
    }

    [Fact]
    public async Task Backup_to_a_named_file()
    {
        var cs = await cluster.CreateDatabaseAsync("clinamedbackup");
        var file = Path.Combine(Path.GetTempPath(), $"odooops-{Guid.NewGuid():N}.dump");
        try
        {
            var r = await CliRunner.RunAsync(["db", "backup", file, "--database-url", Url(cs)]);
            Assert.True(r.ExitCode == 0, r.Error);
            Assert.True(new FileInfo(file).Length > 0);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public async Task Seed_demo_is_idempotent()
    {
        var cs = await cluster.CreateDatabaseAsync("cliseed");
        var env = new Dictionary<string, string> { ["OPS_DEMO_PASSWORD"] = "demo-password-1" };
        var first = await CliRunner.RunAsync(["seed", "--demo", "--database-url", Url(cs)], env);
        Assert.True(first.ExitCode == 0, first.Error);
        Assert.Contains("Demo data loaded", first.Output);
        Assert.DoesNotContain("demo-password-1", first.Output); // a given password is not echoed

        await using var conn = new NpgsqlConnection(cs.ConnectionString);
        const string counts = """
            select (select count(*) from registry.orgs) || '/' || (select count(*) from registry.users) || '/' ||
                   (select count(*) from ops.projects) || '/' || (select count(*) from ops.branches) || '/' ||
                   (select count(*) from ops.builds) || '/' || (select count(*) from ops.metric_samples) || '/' ||
                   (select count(*) from ops.advisories)
            """;
        var before = await conn.ExecuteScalarAsync<string>(counts);
        var second = await CliRunner.RunAsync(["seed", "--demo", "--database-url", Url(cs)], env);
        Assert.Equal(0, second.ExitCode);
        Assert.Contains("already present", second.Output);
        Assert.Equal(before, await conn.ExecuteScalarAsync<string>(counts));
    }

    [Theory]
    [InlineData("db", "verify", "--database-url", "postgresql://nobody:x@127.0.0.1:1/none")]
    [InlineData("db", "status", "--database-url", "postgresql://")]
    [InlineData("db", "restore", "/nonexistent/odooops.dump", "--database-url", "postgresql://nobody:x@127.0.0.1:1/none")]
    [InlineData("seed", "--database-url", "postgresql://nobody:x@127.0.0.1:1/none")]
    public async Task Errors_are_one_line_and_a_non_zero_exit(params string[] args)
    {
        var r = await CliRunner.RunAsync(args);
        Assert.NotEqual(0, r.ExitCode);
        var lines = r.Error.Trim().Split('\n');
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
    }

    [Theory]
    [InlineData("serve")]
    [InlineData("db", "migrate")]
    [InlineData("db", "status")]
    [InlineData("db", "verify")]
    [InlineData("db", "backup")]
    [InlineData("db", "restore")]
    [InlineData("seed")]
    public async Task Every_verb_has_help(params string[] verb)
    {
        var r = await CliRunner.RunAsync([.. verb, "--help"]);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("Usage:", r.Output);
        Assert.Contains("--database-url", r.Output);
    }
}
