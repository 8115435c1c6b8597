using Dapper;
using Npgsql;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Database;

/// <summary>
/// Stages of branches: at most one live production branch per project, enforced by the database (not by the
/// callers), and promotions through ops.set_branch_stage that stay correct under concurrency. Tests commit, so each
/// works on a project of its own in tenant A's org (A's users hold their org roles on it).
/// </summary>
public sealed class BranchStageTests(TenantDatabase db) : IClassFixture<TenantDatabase>
{
    /// <summary>A fresh project of org A with branches main (production), staging and feature-x (development).</summary>
    sealed record Project(Guid ProjectId, Guid ProductionBranchId, Guid StagingBranchId, Guid DevBranchId);

    async Task<Project> NewProjectAsync()
    {
        var p = new Project(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await using var owner = await db.OpenOwnerAsync();
        await owner.ExecuteAsync("""
            insert into ops.projects (id, org_id, name, slug, repo_url) values (@ProjectId, @OrgId, 'Stages', 'stages-' || left(@ProjectId::text, 8), 'https://git.example/s.git');
            insert into ops.branches (id, project_id, name, stage, is_production) values
                (@ProductionBranchId, @ProjectId, 'main', 'production', true),
                (@StagingBranchId, @ProjectId, 'staging', 'staging', false),
                (@DevBranchId, @ProjectId, 'feature-x', 'development', false);
            """, new { p.ProjectId, p.ProductionBranchId, p.StagingBranchId, p.DevBranchId, db.A.OrgId });
        return p;
    }

    [Fact]
    public async Task A_second_live_production_branch_is_refused_but_archived_ones_do_not_count()
    {
        var p = await NewProjectAsync();
        await using var owner = await db.OpenOwnerAsync();
        const string insertProduction = "insert into ops.branches (project_id, name, stage, is_production) values (@ProjectId, @name, 'production', true)";

        var e = await Assert.ThrowsAsync<PostgresException>(() => owner.ExecuteAsync(insertProduction, new { p.ProjectId, name = "release" }));
        Assert.Equal(("23505", "branches_one_production_idx"), (e.SqlState, e.ConstraintName));

        await owner.ExecuteAsync("update ops.branches set archived_at = now() where id = @ProductionBranchId", p);
        await owner.ExecuteAsync(insertProduction, new { p.ProjectId, name = "release" });
        Assert.Equal((2, 1), await owner.QuerySingleAsync<(int, int)>(
            "select count(*)::int, count(*) filter (where archived_at is null)::int from ops.branches where project_id = @ProjectId and stage = 'production'", p));
        // un-archiving the old one would make two live production branches
        e = await Assert.ThrowsAsync<PostgresException>(() => owner.ExecuteAsync("update ops.branches set archived_at = null where id = @ProductionBranchId", p));
        Assert.Equal("23505", e.SqlState);
    }

    [Fact]
    public async Task Is_production_can_never_disagree_with_stage()
    {
        var p = await NewProjectAsync();
        await using var owner = await db.OpenOwnerAsync();
        foreach (var (sql, args) in new (string, object)[]
                 {
                     ("insert into ops.branches (project_id, name, stage, is_production) values (@ProjectId, 'x', 'staging', true)", p),
                     ("insert into ops.branches (project_id, name, stage, is_production) values (@ProjectId, 'y', 'production', false)", db.B),
                     ("update ops.branches set is_production = false where id = @ProductionBranchId", p),
                     ("update ops.branches set stage = 'development' where id = @ProductionBranchId", p),
                 })
        {
            var e = await Assert.ThrowsAsync<PostgresException>(() => owner.ExecuteAsync(sql, args));
            Assert.Equal(("23514", "branches_is_production_matches_stage"), (e.SqlState, e.ConstraintName));
        }
    }

    [Fact]
    public async Task Promotion_demotes_the_old_production_branch_to_staging_in_the_same_call()
    {
        var p = await NewProjectAsync();
        await using (var admin = await db.AsUserAsync(db.A.AdminId))
        {
            var promoted = await admin.QuerySingleAsync("select * from ops.set_branch_stage(@DevBranchId, 'production')", p);
            Assert.Equal(("production", true), ((string)promoted.stage, (bool)promoted.is_production));
            await admin.CommitAsync();
        }
        Assert.Equal(new Dictionary<Guid, string>
        {
            [p.ProductionBranchId] = "staging", [p.StagingBranchId] = "staging", [p.DevBranchId] = "production",
        }, await StagesAsync(p.ProjectId));
        Assert.Equal("production", (await StagesAsync(db.A.ProjectId))[db.A.ProductionBranchId]); // other projects untouched
    }

    [Fact]
    public async Task A_promotion_waits_for_a_concurrent_one_and_the_later_wins()
    {
        var p = await NewProjectAsync();
        await using var first = await db.AsUserAsync(db.A.AdminId);
        await using var second = await db.AsUserAsync(db.A.OwnerId);
        await first.QueryAsync("select 1 from ops.set_branch_stage(@DevBranchId, 'production')", p);

        // The second promotion must block on the per-project lock rather than see the stale production branch.
        var secondCall = Task.Run(async () =>
        {
            await second.QueryAsync("select 1 from ops.set_branch_stage(@StagingBranchId, 'production')", p);
            await second.CommitAsync();
        });
        await WaitUntilBlockedAsync(second.Connection.ProcessID, secondCall);
        await first.CommitAsync();
        await secondCall;

        Assert.Equal(new Dictionary<Guid, string>
        {
            [p.ProductionBranchId] = "staging", [p.StagingBranchId] = "production", [p.DevBranchId] = "staging",
        }, await StagesAsync(p.ProjectId));
    }

    [Fact]
    public async Task Simultaneous_promotions_of_different_branches_leave_exactly_one_production_branch()
    {
        var p = await NewProjectAsync();
        Guid[] branches = [p.ProductionBranchId, p.StagingBranchId, p.DevBranchId];
        for (var round = 0; round < 4; round++)
        {
            var stages = await StagesAsync(p.ProjectId);
            var contenders = branches.Where(b => stages[b] != "production").ToArray();
            await Task.WhenAll(contenders.Select(async (branch, i) =>
            {
                await using var session = await db.AsUserAsync(i == 0 ? db.A.AdminId : db.A.OwnerId);
                await session.QueryAsync("select 1 from ops.set_branch_stage(@branch, 'production')", new { branch });
                await session.CommitAsync();
            }));
            stages = await StagesAsync(p.ProjectId);
            Assert.Single(stages, kv => kv.Value == "production");
            Assert.Contains(stages.Single(kv => kv.Value == "production").Key, contenders);
        }
    }

    [Fact]
    public async Task A_developer_moves_non_production_stages_but_production_needs_an_admin()
    {
        var p = await NewProjectAsync();
        await using (var developer = await db.AsUserAsync(db.A.DeveloperId))
        {
            Assert.Equal("staging", await developer.ScalarAsync<string>("select stage from ops.set_branch_stage(@DevBranchId, 'staging')", p));
            Assert.Equal("development", await developer.ScalarAsync<string>("select stage from ops.set_branch_stage(@StagingBranchId, 'development')", p));
            foreach (var sql in new[]
                     {
                         "select stage from ops.set_branch_stage(@DevBranchId, 'production')",
                         "select stage from ops.set_branch_stage(@ProductionBranchId, 'staging')",
                         "update ops.branches set stage = 'production', is_production = true where id = @DevBranchId",
                     })
            {
                var attempt = await developer.TryExecuteAsync(sql, p);
                Assert.True(attempt.SqlState == "42501", $"{sql}: {attempt}");
            }
            // RLS hides the production row from a developer's direct writes
            Assert.Equal(0, await developer.ExecuteAsync("update ops.branches set name = name where id = @ProductionBranchId", p));
            await developer.CommitAsync();
        }
        await using (var admin = await db.AsUserAsync(db.A.AdminId))
        {
            Assert.Equal("production", await admin.ScalarAsync<string>("select stage from ops.set_branch_stage(@DevBranchId, 'production')", p));
            await admin.CommitAsync();
        }
        Assert.Equal(new Dictionary<Guid, string>
        {
            [p.ProductionBranchId] = "staging", [p.StagingBranchId] = "development", [p.DevBranchId] = "production",
        }, await StagesAsync(p.ProjectId));
    }

    [Fact]
    public async Task An_archived_branch_cannot_change_stage()
    {
        var p = await NewProjectAsync();
        await using (var owner = await db.OpenOwnerAsync())
            await owner.ExecuteAsync("update ops.branches set archived_at = now() where id = @StagingBranchId", p);
        await using var admin = await db.AsUserAsync(db.A.AdminId);
        var attempt = await admin.TryExecuteAsync("select 1 from ops.set_branch_stage(@StagingBranchId, 'production')", p);
        Assert.Equal("55000", attempt.SqlState);
    }

    async Task<Dictionary<Guid, string>> StagesAsync(Guid projectId)
    {
        await using var owner = await db.OpenOwnerAsync();
        return (await owner.QueryAsync<(Guid, string)>("select id, stage from ops.branches where project_id = @projectId and archived_at is null", new { projectId }))
            .ToDictionary(r => r.Item1, r => r.Item2);
    }

    async Task WaitUntilBlockedAsync(int pid, Task call)
    {
        await using var owner = await db.OpenOwnerAsync();
        // A deadline, not a count of tries: on a busy machine the second call may take a while to reach the lock.
        for (var deadline = DateTime.UtcNow.AddSeconds(60); DateTime.UtcNow < deadline;)
        {
            if (call.IsCompleted) await call; // surfaces an error; finishing early means it did not wait
            Assert.False(call.IsCompleted, "the second promotion finished while the first still held the project's branches");
            if (await owner.ExecuteScalarAsync<string?>("select wait_event_type from pg_stat_activity where pid = @pid", new { pid }) == "Lock") return;
            await Task.Delay(25);
        }
        Assert.Fail("the second promotion never waited on a lock");
    }
}
