using Dapper;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Database;

/// <summary>
/// RLS is the second enforcement: SQL run directly as the app login, with the session set the way the server sets it,
/// may do no more than the API. Builds are queued by ops.trigger_build and cancelled by ops.cancel_build (the API's
/// paths, with the dedupe, the queue cap and the audit row); production's secrets are read by admins only.
/// Every session here rolls back.
/// </summary>
public sealed class DirectSqlTests(TenantDatabase db) : IClassFixture<TenantDatabase>
{
    public static TheoryData<TenantRole> Builders => [TenantRole.Tester, TenantRole.Developer, TenantRole.ProjectMember, TenantRole.Admin, TenantRole.Owner];

    [Theory]
    [MemberData(nameof(Builders))]
    public async Task A_build_row_is_not_inserted_directly_only_queued_through_trigger_build(TenantRole role)
    {
        var me = db.A.User(role);
        await using var session = await db.AsUserAsync(me);
        foreach (var sql in new[]
                 {
                     "insert into ops.builds (project_id, branch_id, trigger, commit_sha, triggered_by) values (@ProjectId, @DevBranchId, 'manual', 'abc123', @me)",
                     // the same commit as the fixture's queued build: the API would answer that build instead of a second one
                     "insert into ops.builds (project_id, branch_id, trigger, triggered_by) values (@ProjectId, @DevBranchId, 'manual', @me)",
                 })
        {
            var attempt = await session.TryExecuteAsync(sql, new { db.A.ProjectId, db.A.DevBranchId, me });
            Assert.True(attempt.SqlState == "42501", $"{role}: {sql}: {attempt}");
        }

        var queued = await session.TryQueryAsync("select * from ops.trigger_build(@ProjectId, @DevBranchId, 'manual', 'abc123')", db.A, keep: true);
        Assert.True(queued.Ok, $"{role}: {queued}");
        var buildId = (Guid)queued.Value!.Single().build_id;
        Assert.Equal(1L, await session.ScalarAsync<long>(
            "select count(*) from ops.builds where id = @buildId and status = 'queued' and triggered_by = @me", new { buildId, me }));
    }

    [Theory]
    [InlineData(TenantRole.Tester)]
    [InlineData(TenantRole.Developer)]
    [InlineData(TenantRole.Owner)]
    public async Task A_build_row_is_not_rewritten_directly_only_cancelled_through_cancel_build(TenantRole role)
    {
        await using var session = await db.AsUserAsync(db.A.User(role));
        foreach (var sql in new[]
                 {
                     "update ops.builds set status = 'running' where id = @QueuedBuildId",                       // start it without a runner
                     "update ops.builds set status = 'queued' where id = @RunningBuildId",                       // take it from its runner
                     "update ops.builds set finished_at = now() - interval '1 day' where id = @RunningBuildId",  // rewrite its history
                     "update ops.builds set status = 'cancelled', finished_at = now() where id = @QueuedBuildId", // cancel with no audit row
                 })
        {
            var attempt = await session.TryExecuteAsync(sql, db.A);
            Assert.True(attempt.SqlState == "42501", $"{role}: {sql}: {attempt}");
        }
        Assert.Equal("42501", (await session.TryExecuteAsync("delete from ops.builds where id = @QueuedBuildId", db.A)).SqlState);

        Assert.Equal("cancelled", await session.ScalarAsync<string>("select status from ops.cancel_build(@QueuedBuildId)", db.A));
        Assert.True(await session.ScalarAsync<bool>("select cancel_requested_at is not null from ops.cancel_build(@RunningBuildId)", db.A));
    }

    [Fact]
    public async Task A_tester_cannot_cancel_a_production_build_through_the_function_either()
    {
        await using var owner = await db.OpenOwnerAsync();
        var build = await owner.ExecuteScalarAsync<Guid>(
            "insert into ops.builds (project_id, branch_id, trigger, commit_sha) values (@ProjectId, @ProductionBranchId, 'manual', 'beef01') returning id", db.A);
        try
        {
            await using var session = await db.AsUserAsync(db.A.TesterId);
            var attempt = await session.TryQueryAsync("select * from ops.cancel_build(@build)", new { build });
            Assert.Equal("42501", attempt.SqlState);
            Assert.Contains("developer role or higher", attempt.Error!.MessageText);
            Assert.Equal("42501", (await session.TryExecuteAsync("update ops.builds set status = 'cancelled' where id = @build", new { build })).SqlState);
        }
        finally
        {
            await owner.ExecuteAsync("delete from ops.builds where id = @build", new { build });
        }
    }

    [Fact]
    public async Task A_user_is_audited_as_one_whatever_actor_the_call_names()
    {
        Guid build;
        await using (var session = await db.AsUserAsync(db.A.TesterId))
        {
            build = (Guid)(await session.QueryAsync(
                "select * from ops.trigger_build(@ProjectId, @DevBranchId, 'push', 'cafe01', p_actor => 'webhook')", db.A)).Single().build_id;
            await session.CommitAsync();
        }
        await using var owner = await db.OpenOwnerAsync();
        var row = await owner.QuerySingleAsync<(string Actor, Guid? User)>(
            "select actor, actor_user_id from ops.audit_log where action = 'build.trigger' and target_id = @id", new { id = build.ToString() });
        Assert.Equal(("user", (Guid?)db.A.TesterId), row);
        await owner.ExecuteAsync("delete from ops.builds where id = @build", new { build });
    }

    [Theory]
    [InlineData(TenantRole.Developer)]
    [InlineData(TenantRole.ProjectMember)]
    public async Task A_developer_does_not_read_production_secret_values(TenantRole role)
    {
        await using var session = await db.AsUserAsync(db.A.User(role));
        Assert.Empty(await session.QueryAsync<string>("select value from ops.env_vars where id = @ProductionEnvVarId", db.A));
        Assert.Empty(await session.QueryAsync<string>("select value from ops.env_vars where stage = 'production' and is_secret"));
        // Nor through a write that answers the row.
        Assert.Empty(await session.QueryAsync<string>("update ops.env_vars set is_secret = false where id = @ProductionEnvVarId returning value", db.A));
        Assert.Empty(await session.QueryAsync<string>("delete from ops.env_vars where id = @ProductionEnvVarId returning value", db.A));
        Assert.Equal(["db-dev"], await session.QueryAsync<string>("select value from ops.env_vars where id = @DevEnvVarId", db.A));

        await using var admin = await db.AsUserAsync(db.A.AdminId);
        Assert.Equal(["secret-a"], await admin.QueryAsync<string>("select value from ops.env_vars where id = @ProductionEnvVarId", db.A));
    }
}
