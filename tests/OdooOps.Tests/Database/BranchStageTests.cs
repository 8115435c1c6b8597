using Dapper;
using Npgsql;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Database;

/// <summary>
/// Stages of branches: at most one live production branch per project, enforced by the database (not by the
/// callers), and promotions through ops.set_branch_stage that stay correct under concurrency. Each test commits, so
/// each has a database of its own.
/// </summary>
public sealed class BranchStageTests(PostgresCluster cluster)
{
    [Fact]
    public async Task A_second_live_production_branch_is_refused_but_archived_ones_do_not_count()
    {
        var db = await TenantDatabase.CreateAsync(cluster);
        await using var owner = await db.OpenOwnerAsync();
        const string insertProduction = "insert into ops.branches (project_id, name, stage, is_production) values (@ProjectId, @name, 'production', true)";

        var e = await Assert.ThrowsAsync<PostgresException>(() => owner.ExecuteAsync(insertProduction, new { db.A.ProjectId, name = "release" }));
        Assert.Equal(("23505", "branches_one_production_idx"), (e.SqlState, e.ConstraintName));

        await owner.ExecuteAsync("update ops.branches set archived_at = now() where id = @ProductionBranchId", db.A);
        await owner.ExecuteAsync(insertProduction, new { db.A.ProjectId, name = "release" });
        Assert.Equal((2, 1), await owner.QuerySingleAsync<(int, int)>(
            "select count(*)::int, count(*) filter (where archived_at is null)::int from ops.branches where project_id = @ProjectId and stage = 'production'", db.A));
        // un-archiving the old one would make two live production branches
        e = await Assert.ThrowsAsync<PostgresException>(() => owner.ExecuteAsync("update ops.branches set archived_at = null where id = @ProductionBranchId", db.A));
        Assert.Equal("23505", e.SqlState);
    }

    [Fact]
    public async Task Is_production_can_never_disagree_with_stage()
    {
        var db = await TenantDatabase.CreateAsync(cluster);
        await using var owner = await db.OpenOwnerAsync();
        foreach (var (sql, args) in new (string, object)[]
                 {
                     ("insert into ops.branches (project_id, name, stage, is_production) values (@ProjectId, 'x', 'staging', true)", db.A),
                     ("insert into ops.branches (project_id, name, stage, is_production) values (@ProjectId, 'y', 'production', false)", db.B),
                     ("update ops.branches set is_production = false where id = @ProductionBranchId", db.A),
                     ("update ops.branches set stage = 'development' where id = @ProductionBranchId", db.A),
                 })
        {
            var e = await Assert.ThrowsAsync<PostgresException>(() => owner.ExecuteAsync(sql, args));
            Assert.Equal(("23514", "branches_is_production_matches_stage"), (e.SqlState, e.ConstraintName));
        }
    }

    [Fact]
    public async Task Promotion_demotes_the_old_production_branch_to_staging_in_the_same_call()
    {
        var db = await TenantDatabase.CreateAsync(cluster);
        await using (var admin = await db.AsUserAsync(db.A.AdminId))
        {
            var promoted = await admin.QuerySingleAsync("select * from ops.set_branch_stage(@DevBranchId, 'production')", db.A);
            Assert.Equal(("production", true), ((string)promoted.stage, (bool)promoted.is_production));
            await admin.CommitAsync();
        }
        Assert.Equal(new Dictionary<Guid, string>
        {
            [db.A.ProductionBranchId] = "staging", [db.A.StagingBranchId] = "staging", [db.A.DevBranchId] = "production",
        }, await StagesAsync(db, db.A));
        Assert.Equal("production", (await StagesAsync(db, db.B))[db.B.ProductionBranchId]); // other projects untouched
    }

    [Fact]
    public async Task A_promotion_waits_for_a_concurrent_one_and_the_later_wins()
    {
        var db = await TenantDatabase.CreateAsync(cluster);
        await using var first = await db.AsUserAsync(db.A.AdminId);
        await using var second = await db.AsUserAsync(db.A.OwnerId);
        await first.QueryAsync("select 1 from ops.set_branch_stage(@DevBranchId, 'production')", db.A);

        // The second promotion must block on the per-project lock rather than see the stale production branch.
        var secondCall = Task.Run(async () =>
        {
            await second.QueryAsync("select 1 from ops.set_branch_stage(@StagingBranchId, 'production')", db.A);
            await second.CommitAsync();
        });
        await WaitUntilBlockedAsync(db, second.Connection.ProcessID, secondCall);
        await first.CommitAsync();
        await secondCall;

        Assert.Equal(new Dictionary<Guid, string>
        {
            [db.A.ProductionBranchId] = "staging", [db.A.StagingBranchId] = "production", [db.A.DevBranchId] = "staging",
        }, await StagesAsync(db, db.A));
    }

    [Fact]
    public async Task Simultaneous_promotions_of_different_branches_leave_exactly_one_production_branch()
    {
        var db = await TenantDatabase.CreateAsync(cluster);
        Guid[] branches = [db.A.ProductionBranchId, db.A.StagingBranchId, db.A.DevBranchId];
        for (var round = 0; round < 4; round++)
        {
            var stages = await StagesAsync(db, db.A);
            var contenders = branches.Where(b => stages[b] != "production").ToArray();
            await Task.WhenAll(contenders.Select(async (branch, i) =>
            {
                await using var session = await db.AsUserAsync(i == 0 ? db.A.AdminId : db.A.OwnerId);
                await session.QueryAsync("select 1 from ops.set_branch_stage(@branch, 'production')", new { branch });
                await session.CommitAsync();
            }));
            stages = await StagesAsync(db, db.A);
            Assert.Single(stages, kv => kv.Value == "production");
            Assert.Contains(stages.Single(kv => kv.Value == "production").Key, contenders);
        }
    }

    [Fact]
    public async Task A_developer_moves_non_production_stages_but_production_needs_an_admin()
    {
        var db = await TenantDatabase.CreateAsync(cluster);
        await using (var developer = await db.AsUserAsync(db.A.DeveloperId))
        {
            Assert.Equal("staging", await developer.ScalarAsync<string>("select stage from ops.set_branch_stage(@DevBranchId, 'staging')", db.A));
            Assert.Equal("development", await developer.ScalarAsync<string>("select stage from ops.set_branch_stage(@StagingBranchId, 'development')", db.A));
            foreach (var sql in new[]
                     {
                         "select stage from ops.set_branch_stage(@DevBranchId, 'production')",
                         "select stage from ops.set_branch_stage(@ProductionBranchId, 'staging')",
                         "update ops.branches set stage = 'production', is_production = true where id = @DevBranchId",
                     })
            {
                var attempt = await developer.TryExecuteAsync(sql, db.A);
                Assert.True(attempt.SqlState == "42501", $"{sql}: {attempt}");
            }
            // RLS hides the production row from a developer's direct writes
            Assert.Equal(0, await developer.ExecuteAsync("update ops.branches set name = name where id = @ProductionBranchId", db.A));
            await developer.CommitAsync();
        }
        await using (var admin = await db.AsUserAsync(db.A.AdminId))
        {
            Assert.Equal("production", await admin.ScalarAsync<string>("select stage from ops.set_branch_stage(@DevBranchId, 'production')", db.A));
            await admin.CommitAsync();
        }
        Assert.Equal(new Dictionary<Guid, string>
        {
            [db.A.ProductionBranchId] = "staging", [db.A.StagingBranchId] = "development", [db.A.DevBranchId] = "production",
        }, await StagesAsync(db, db.A));
    }

    [Fact]
    public async Task An_archived_branch_cannot_change_stage()
    {
        var db = await TenantDatabase.CreateAsync(cluster);
        await using (var owner = await db.OpenOwnerAsync())
            await owner.ExecuteAsync("update ops.branches set archived_at = now() where id = @StagingBranchId", db.A);
        await using var admin = await db.AsUserAsync(db.A.AdminId);
        var attempt = await admin.TryExecuteAsync("select 1 from ops.set_branch_stage(@StagingBranchId, 'production')", db.A);
        Assert.Equal("55000", attempt.SqlState);
    }

    static async Task<Dictionary<Guid, string>> StagesAsync(TenantDatabase db, Tenant tenant)
    {
        await using var owner = await db.OpenOwnerAsync();
        return (await owner.QueryAsync<(Guid, string)>("select id, stage from ops.branches where project_id = @ProjectId and archived_at is null", tenant))
            .ToDictionary(r => r.Item1, r => r.Item2);
    }

    static async Task WaitUntilBlockedAsync(TenantDatabase db, int pid, Task call)
    {
        await using var owner = await db.OpenOwnerAsync();
        for (var i = 0; i < 200; i++)
        {
            if (call.IsCompleted) await call; // surfaces an error; finishing early means it did not wait
            Assert.False(call.IsCompleted, "the second promotion finished while the first still held the project's branches");
            if (await owner.ExecuteScalarAsync<string?>("select wait_event_type from pg_stat_activity where pid = @pid", new { pid }) == "Lock") return;
            await Task.Delay(25);
        }
        Assert.Fail("the second promotion never waited on a lock");
    }
}
