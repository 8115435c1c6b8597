using Dapper;
using Npgsql;
using OdooOps.Database;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Database;

public sealed class DbVerifyTests(PostgresCluster cluster)
{
    [Fact]
    public async Task A_migrated_database_passes_every_check()
    {
        var cs = await cluster.CreateDatabaseAsync("verify");
        var checks = await DbVerifier.RunAsync(cs.ConnectionString);
        Assert.True(checks.Count >= 10);
        Assert.All(checks, c => Assert.True(c.Passed, $"{c.Name}: {c.Detail}"));
    }

    [Fact]
    public async Task A_table_without_rls_fails_verification_and_says_which()
    {
        var cs = await cluster.CreateDatabaseAsync("verifyrls");
        await using (var conn = new NpgsqlConnection(cs.ConnectionString))
            await conn.ExecuteAsync("create table ops.sneaky (id int)");
        var checks = await DbVerifier.RunAsync(cs.ConnectionString);
        var rls = checks.Single(c => c.Name == "RLS enabled on every table");
        Assert.False(rls.Passed);
        Assert.Contains("ops.sneaky", rls.Detail);
        Assert.False(checks.Single(c => c.Name.StartsWith("At least one policy")).Passed);
    }

    [Fact]
    public async Task An_unpinned_security_definer_function_fails_verification()
    {
        var cs = await cluster.CreateDatabaseAsync("verifydefiner");
        await using (var conn = new NpgsqlConnection(cs.ConnectionString))
            await conn.ExecuteAsync("create function ops.leaky() returns int language sql security definer as 'select 1'");
        var checks = await DbVerifier.RunAsync(cs.ConnectionString);
        var pinned = checks.Single(c => c.Name == "SECURITY DEFINER functions pin search_path");
        Assert.False(pinned.Passed);
        Assert.Contains("ops.leaky", pinned.Detail);
        // Default privileges in ops revoke EXECUTE from PUBLIC, even for functions added by hand.
        Assert.True(checks.Single(c => c.Name == "SECURITY DEFINER functions not executable by PUBLIC").Passed);
    }

    [Fact]
    public async Task A_pending_migration_fails_verification()
    {
        var cs = await cluster.CreateDatabaseAsync("verifypending");
        await using (var conn = new NpgsqlConnection(cs.ConnectionString))
            await conn.ExecuteAsync("delete from ops_private.schema_migrations where script_name = (select max(script_name) from ops_private.schema_migrations)");
        var checks = await DbVerifier.RunAsync(cs.ConnectionString);
        var migrations = checks.Single(c => c.Name == "All migrations applied and unchanged");
        Assert.False(migrations.Passed);
        Assert.Contains("pending", migrations.Detail);
    }
}
