using Dapper;
using Npgsql;
using OdooOps.Database;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Database;

/// <summary>
/// One home per SQL object: functions, triggers, privileges and policies live in the canonical files (Feature/Sql),
/// migrations change the schema only. Upgrading a database and building one from empty must give the same schema,
/// the files alone must make every object, and an object changed by hand is put back at the next migrate.
/// </summary>
public sealed class SqlObjectsTests(PostgresCluster cluster)
{
    /// <summary>The migrations a database had before the canonical files existed; later ones came with them.</summary>
    const string LastMigrationBeforeFiles = "0016_release_build_job.sql";

    [Fact]
    public async Task A_database_migrated_before_the_files_existed_and_one_migrated_from_empty_end_with_the_same_schema()
    {
        var upgraded = await cluster.CreateEmptyDatabaseAsync("upgraded");
        var old = await new Migrator(upgraded.ConnectionString).MigrateAsync(
            scripts: [.. Migrator.EmbeddedScripts().Where(s => string.CompareOrdinal(s.Name, LastMigrationBeforeFiles) <= 0)], sqlObjects: []);
        Assert.Equal(LastMigrationBeforeFiles, old.Applied[^1]);
        Assert.Null(old.SqlObjects);
        var upgrade = await new Migrator(upgraded.ConnectionString).MigrateAsync();
        Assert.NotNull(upgrade.SqlObjects);

        var fresh = await cluster.CreateEmptyDatabaseAsync("fresh");
        await new Migrator(fresh.ConnectionString).MigrateAsync();

        Assert.Equal(await SchemaDump.OfAsync(fresh), await SchemaDump.OfAsync(upgraded));
        foreach (var db in new[] { upgraded, fresh })
            Assert.All(await DbVerifier.RunAsync(db.ConnectionString), c => Assert.True(c.Passed, $"{db.Database}: {c.Name}: {c.Detail}"));
    }

    [Fact]
    public async Task The_files_alone_make_every_function_trigger_privilege_and_policy()
    {
        var reference = await cluster.CreateDatabaseAsync("filesref");
        var rebuilt = await cluster.CreateDatabaseAsync("filesonly");
        await using (var conn = new NpgsqlConnection(rebuilt.ConnectionString))
        {
            await conn.ExecuteAsync(RequestRoles.For(rebuilt.Database!).Substitute(StripEverythingTheFilesMake));
            Assert.Equal(0, await conn.ExecuteScalarAsync<int>(
                "select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname in ('ops', 'registry', 'ops_private')"));
        }
        SqlObjects.Apply(rebuilt.ConnectionString, SqlObjects.EmbeddedScripts(), RequestRoles.For(rebuilt.Database!));

        Assert.Equal(await SchemaDump.OfAsync(reference), await SchemaDump.OfAsync(rebuilt));
    }

    [Fact]
    public async Task An_object_changed_by_hand_is_named_by_verify_and_put_back_at_the_next_migrate()
    {
        var cs = await cluster.CreateDatabaseAsync("drift");
        var migrator = new Migrator(cs.ConnectionString);
        Assert.Null((await migrator.MigrateAsync()).SqlObjects); // current: nothing is applied, no lock is taken on a table

        await using var conn = new NpgsqlConnection(cs.ConnectionString);
        await conn.ExecuteAsync("""
            create or replace function ops.slugify(p_text text) returns text language sql immutable as $$ select 'hacked' $$;
            drop policy builds_select on ops.builds;
            """);
        var check = (await DbVerifier.RunAsync(cs.ConnectionString)).Single(c => c.Name == "SQL objects are what their files say");
        Assert.False(check.Passed);
        Assert.Contains("function ops.slugify(text)", check.Detail);
        Assert.Contains("policy ops.builds.builds_select", check.Detail);

        var outcome = (await migrator.MigrateAsync()).SqlObjects;
        Assert.NotNull(outcome);
        Assert.Contains("ops.slugify", outcome.Reason);
        Assert.Equal("a-b", await conn.ExecuteScalarAsync<string>("select ops.slugify('A b')"));
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*) from pg_policies where policyname = 'builds_select'"));
        Assert.All(await DbVerifier.RunAsync(cs.ConnectionString), c => Assert.True(c.Passed, $"{c.Name}: {c.Detail}"));
    }

    [Fact]
    public async Task A_changed_file_is_applied_at_the_next_migrate()
    {
        var cs = await cluster.CreateDatabaseAsync("changedfile");
        var files = SqlObjects.EmbeddedScripts().ToList();
        var slugify = files.FindIndex(f => f.Name == "ops.slugify.sql");
        files[slugify] = files[slugify] with { Contents = files[slugify].Contents.Replace("63)", "20)") };

        var outcome = (await new Migrator(cs.ConnectionString).MigrateAsync(sqlObjects: files)).SqlObjects;
        Assert.NotNull(outcome);
        Assert.Equal("ops.slugify.sql", outcome.Reason);
        await using var conn = new NpgsqlConnection(cs.ConnectionString);
        Assert.Equal(20, await conn.ExecuteScalarAsync<int>("select length(ops.slugify(repeat('a', 100)))"));
    }

    [Fact]
    public async Task A_grant_or_an_overload_no_file_makes_is_taken_away_or_named()
    {
        var cs = await cluster.CreateDatabaseAsync("strays");
        await using var conn = new NpgsqlConnection(cs.ConnectionString);
        var roles = RequestRoles.For(cs.Database!);
        await conn.ExecuteAsync(roles.Substitute("""
            grant execute on function ops.ensure_metric_partitions(date, int) to ops_app;
            create function ops.slugify(p_text text, p_max int) returns text language sql immutable as $$ select left(p_text, p_max) $$;
            """));
        Assert.NotNull((await new Migrator(cs.ConnectionString).MigrateAsync()).SqlObjects); // drift: applied again

        Assert.False(await conn.ExecuteScalarAsync<bool>(roles.Substitute("select has_function_privilege('ops_app', 'ops.ensure_metric_partitions(date, int)', 'execute')")),
            await conn.ExecuteScalarAsync<string>("select proacl::text || ' ' || current_user from pg_proc where proname = 'ensure_metric_partitions'"));
        var homes = (await DbVerifier.RunAsync(cs.ConnectionString)).Single(c => c.Name == "Every function has exactly one canonical file");
        Assert.False(homes.Passed);
        Assert.Contains("ops.slugify(text,integer) was made by no file", homes.Detail);
    }

    [Fact]
    public async Task A_binary_older_than_its_database_leaves_the_newer_files_alone()
    {
        var cs = await cluster.CreateDatabaseAsync("newer");
        await using var conn = new NpgsqlConnection(cs.ConnectionString);
        await conn.ExecuteAsync("insert into ops_private.schema_migrations (script_name, checksum) values ('9999_from_the_future.sql', 'x')");
        var files = SqlObjects.EmbeddedScripts().ToList();
        var slugify = files.FindIndex(f => f.Name == "ops.slugify.sql");
        files[slugify] = files[slugify] with { Contents = files[slugify].Contents.Replace("63)", "20)") }; // what this binary would say

        var outcome = (await new Migrator(cs.ConnectionString).MigrateAsync(sqlObjects: files)).SqlObjects;
        Assert.NotNull(outcome);
        Assert.Equal(0, outcome.Files);
        Assert.Contains("9999_from_the_future.sql", outcome.Reason);
        Assert.Equal(63, await conn.ExecuteScalarAsync<int>("select length(ops.slugify(repeat('a', 100)))"));
    }

    [Fact]
    public async Task Applying_waits_for_a_locked_table_a_few_seconds_at_a_time_and_tries_again()
    {
        var cs = await cluster.CreateDatabaseAsync("locked");
        await using var reader = new NpgsqlConnection(cs.ConnectionString);
        await reader.OpenAsync();
        var report = await reader.BeginTransactionAsync();
        await reader.ExecuteAsync("select count(*) from ops.builds", transaction: report); // a long reader holds the table

        var retried = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var files = SqlObjects.EmbeddedScripts().ToList();
        var slugify = files.FindIndex(f => f.Name == "ops.slugify.sql");
        files[slugify] = files[slugify] with { Contents = files[slugify].Contents.Replace("63)", "62)") };
        var migrate = new Migrator(cs.ConnectionString).MigrateAsync(sqlObjects: files,
            log: line => { if (line.Contains("trying again")) retried.TrySetResult(); });

        await retried.Task.WaitAsync(TimeSpan.FromMinutes(2)); // the first try gave up on the lock instead of queueing
        Assert.False(migrate.IsCompleted);
        await report.RollbackAsync();
        Assert.Equal("ops.slugify.sql", (await migrate.WaitAsync(TimeSpan.FromMinutes(2))).SqlObjects?.Reason);
        await using var conn = new NpgsqlConnection(cs.ConnectionString);
        Assert.Equal(62, await conn.ExecuteScalarAsync<int>("select length(ops.slugify(repeat('a', 100)))"));
    }

    [Fact]
    public void Files_are_named_after_what_they_define()
    {
        foreach (var file in SqlObjects.EmbeddedScripts())
        {
            var defines = file.Kind switch
            {
                SqlObjects.Kind.Function => SqlObjects.DefinedFunctions([file]).Select(d => d.Function + ".sql"),
                SqlObjects.Kind.Trigger => SqlObjects.DefinedTriggersAndPolicies([file]).Select(d => d.Object + ".trigger.sql"),
                SqlObjects.Kind.Access => SqlObjects.DefinedTriggersAndPolicies([file]).Select(d => d.Object[..d.Object.LastIndexOf('.')] + ".policies.sql")
                    .DefaultIfEmpty(file.Name), // a table with privileges and no policy
                _ => [],
            };
            Assert.True(defines.Any() && defines.All(d => d == file.Name), $"{file.Name} defines {string.Join(", ", defines)}");
        }
    }

    /// <summary>Every policy, trigger, table privilege of the request roles and function of our schemas, gone.</summary>
    const string StripEverythingTheFilesMake = """
        do $$
        declare r record;
        begin
            for r in select p.polname, p.polrelid::regclass as t from pg_policy p loop
                execute format('drop policy %I on %s', r.polname, r.t);
            end loop;
            for r in select t.tgname, t.tgrelid::regclass as tab from pg_trigger t join pg_class c on c.oid = t.tgrelid
                       join pg_namespace n on n.oid = c.relnamespace
                      where not t.tgisinternal and n.nspname in ('ops', 'registry', 'ops_private') loop
                execute format('drop trigger %I on %s', r.tgname, r.tab);
            end loop;
            for r in select c.oid::regclass as t from pg_class c join pg_namespace n on n.oid = c.relnamespace
                      where n.nspname in ('ops', 'registry', 'ops_private') and c.relkind in ('r', 'p') loop
                execute format('revoke all on %s from ops_app, ops_service', r.t);
            end loop;
            for r in select p.oid::regprocedure as f from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                      where n.nspname in ('ops', 'registry', 'ops_private') loop
                execute format('drop function %s', r.f);
            end loop;
        end
        $$;
        """;
}
