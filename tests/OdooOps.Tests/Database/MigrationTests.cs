using Dapper;
using DbUp.Engine;
using Npgsql;
using OdooOps.Database;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Database;

public sealed class MigrationTests(PostgresCluster cluster)
{
    [Fact]
    public async Task Migrates_an_empty_database_then_a_rerun_changes_nothing()
    {
        var cs = await cluster.CreateEmptyDatabaseAsync("fromempty");
        var migrator = new Migrator(cs.ConnectionString);
        var scripts = Migrator.EmbeddedScripts();
        Assert.NotEmpty(scripts);

        var first = await migrator.MigrateAsync();
        Assert.Equal(scripts.Select(s => s.Name), first.Applied);
        Assert.True((await migrator.GetStatusAsync()).IsCurrent);

        var second = await migrator.MigrateAsync();
        Assert.Empty(second.Applied);
        await using var conn = new NpgsqlConnection(cs.ConnectionString);
        Assert.Equal(scripts.Count, await conn.ExecuteScalarAsync<int>("select count(*) from ops_private.schema_migrations"));
    }

    [Fact]
    public async Task Scripts_are_named_in_order_and_applied_in_that_order()
    {
        var names = Migrator.EmbeddedScripts().Select(s => s.Name).ToList();
        Assert.All(names, n => Assert.Matches(@"^\d{4}_[a-z0-9_]+\.sql$", n));
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
    }

    [Fact]
    public async Task An_applied_script_that_was_edited_is_refused_by_name()
    {
        var cs = await cluster.CreateEmptyDatabaseAsync("edited");
        var migrator = new Migrator(cs.ConnectionString);
        await migrator.MigrateAsync();

        var scripts = Migrator.EmbeddedScripts().ToList();
        var edited = scripts[1];
        scripts[1] = new SqlScript(edited.Name, edited.Contents + "\n-- an innocent edit\n");
        scripts.Add(new SqlScript("9999_would_be_next.sql", "create table ops.should_not_exist (id int);"));

        var e = await Assert.ThrowsAsync<MigrationChangedException>(() => migrator.MigrateAsync(scripts: scripts));
        Assert.Contains(edited.Name, e.Message);
        var status = await migrator.GetStatusAsync(scripts);
        Assert.Equal(MigrationState.Changed, status.Rows.Single(r => r.Name == edited.Name).State);
        await using var conn = new NpgsqlConnection(cs.ConnectionString);
        Assert.False(await conn.ExecuteScalarAsync<bool>("select to_regclass('ops.should_not_exist') is not null"));
    }

    [Fact]
    public async Task A_failing_script_rolls_back_alone_and_names_itself()
    {
        var cs = await cluster.CreateEmptyDatabaseAsync("failing");
        var migrator = new Migrator(cs.ConnectionString);
        await migrator.MigrateAsync();
        var scripts = Migrator.EmbeddedScripts().Append(new SqlScript("9998_broken.sql",
            "create table ops.half_done (id int);\nselect 1/0;")).ToList();

        var e = await Assert.ThrowsAsync<MigrationFailedException>(() => migrator.MigrateAsync(scripts: scripts));
        Assert.Contains("9998_broken.sql", e.Message);
        await using var conn = new NpgsqlConnection(cs.ConnectionString);
        Assert.False(await conn.ExecuteScalarAsync<bool>("select to_regclass('ops.half_done') is not null"));
        Assert.Equal(MigrationState.Pending, (await migrator.GetStatusAsync(scripts)).Rows.Single(r => r.Name == "9998_broken.sql").State);
    }

    [Fact]
    public async Task Two_concurrent_migrators_apply_each_script_once()
    {
        var cs = await cluster.CreateEmptyDatabaseAsync("concurrent");
        var results = await Task.WhenAll(
            Task.Run(() => new Migrator(cs.ConnectionString).MigrateAsync()),
            Task.Run(() => new Migrator(cs.ConnectionString).MigrateAsync()),
            Task.Run(() => new Migrator(cs.ConnectionString).MigrateAsync()));
        var expected = Migrator.EmbeddedScripts().Count;
        Assert.Equal(expected, results.Sum(r => r.Applied.Count));
        Assert.Single(results, r => r.Applied.Count == expected);
        await using var conn = new NpgsqlConnection(cs.ConnectionString);
        Assert.Equal(expected, await conn.ExecuteScalarAsync<int>("select count(*) from ops_private.schema_migrations"));
    }
}
