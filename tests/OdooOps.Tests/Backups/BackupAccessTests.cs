using Dapper;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Backups;

/// <summary>
/// The backups' functions as an attacker with direct SQL would meet them: the request role may read its tenants'
/// backups and nothing more — no insert or update of ops.backups or ops.runner_tasks (a task is a command to a runner),
/// no call of the schedule's, retention's or private queueing functions; another tenant's branch or backup does not
/// exist for it; the service login runs the jobs' functions and cannot pose as a person. Nothing a refusal touches changes.
/// </summary>
public sealed class BackupAccessTests(TenantDatabase db) : IClassFixture<TenantDatabase>
{
    static readonly string[] ServiceCalls =
    [
        "select ops.queue_daily_backups(now())",
        "select ops.prune_backups(now(), 30, 30)",
        "select count(*) from ops.backup_files_to_delete(10)",
        "select ops.mark_backup_file_deleted(gen_random_uuid())",
    ];

    static readonly string[] PrivateCalls =
    [
        "select ops_private.queue_backup(@ProductionBranchId, 'manual', null, null)",
        "select ops_private.queue_restore(gen_random_uuid(), @ProductionBranchId, null)",
        "select count(*) from ops_private.backup_host(@ProductionBranchId)",
        "select ops_private.visible_branch(@ProductionBranchId)",
    ];

    static readonly string[] DirectWrites =
    [
        "insert into ops.backups (project_id, branch_id, kind) values (@ProjectId, @ProductionBranchId, 'manual')",
        "update ops.backups set deleted_at = now() where project_id = @ProjectId",
        "update ops.backups set status = 'succeeded', verification = 'verified' where project_id = @ProjectId",
        "insert into ops.runner_tasks (project_id, branch_id, kind, backup_id, runner_id) select project_id, branch_id, 'restore', id, @RunnerId from ops.backups where project_id = @ProjectId",
        "delete from ops.runner_task_logs where project_id = @ProjectId",
    ];

    [Fact]
    public async Task The_app_login_writes_no_backup_and_runs_no_job_or_private_function_as_anyone()
    {
        var before = await db.SnapshotAsync();
        foreach (var user in new Guid?[] { db.A.OwnerId, db.A.TesterId, null })
        {
            await using var session = await db.AsUserAsync(user);
            foreach (var sql in ServiceCalls.Concat(PrivateCalls).Concat(DirectWrites))
            {
                var attempt = await session.TryQueryAsync(sql, db.A, keep: true);
                Assert.True(attempt.SqlState == "42501" || (attempt.Ok && sql.StartsWith("update") && attempt.Value!.Count == 0),
                    $"{sql} as {user}: expected 42501, got {attempt}");
            }
            await session.CommitAsync();
        }
        Assert.Equal(before, await db.SnapshotAsync());
    }

    [Fact]
    public async Task Another_tenants_branch_and_backup_do_not_exist_for_a_person()
    {
        var before = await db.SnapshotAsync();
        Guid backupOfB;
        await using (var owner = await db.OpenOwnerAsync())
            backupOfB = await owner.ExecuteScalarAsync<Guid>("select id from ops.backups where project_id = @ProjectId", db.B);
        await using var session = await db.AsUserAsync(db.A.OwnerId);
        foreach (var sql in new[]
                 {
                     "select ops.request_backup(@ProductionBranchId)", "select ops.request_import(@ProductionBranchId)",
                 })
            Assert.Equal("P0002", (await session.TryQueryAsync(sql, db.B)).SqlState);
        foreach (var sql in new[]
                 {
                     "select ops.request_verify(@backupOfB)", "select ops.request_download(@backupOfB)",
                     "select ops.request_restore(@backupOfB, @branch, 'main')",
                 })
            Assert.Equal("P0002", (await session.TryQueryAsync(sql, new { backupOfB, branch = db.A.StagingBranchId })).SqlState);
        Assert.Empty(await session.QueryAsync("select 1 from ops.backups where project_id = @ProjectId", db.B));
        Assert.Empty(await session.QueryAsync("select 1 from ops.runner_tasks where project_id = @ProjectId", db.B));
        Assert.Empty(await session.QueryAsync("select 1 from ops.runner_task_logs where project_id = @ProjectId", db.B));
        Assert.NotEmpty(await session.QueryAsync("select 1 from ops.runner_task_logs where project_id = @ProjectId", db.A));
        await session.CommitAsync();
        Assert.Equal(before, await db.SnapshotAsync());
    }

    [Fact]
    public async Task The_service_login_runs_the_jobs_functions_and_none_of_a_persons()
    {
        await using var conn = await db.OpenServiceAsync();
        await using var tx = await conn.BeginTransactionAsync(); // rolled back: the class database stays as built
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select ops.prune_backups(now(), 30, 30)", transaction: tx));
        Assert.Equal(0L, await conn.ExecuteScalarAsync<long>(ServiceCalls[2], transaction: tx));
        Assert.False(await conn.ExecuteScalarAsync<bool>(ServiceCalls[3], transaction: tx));
        // The fixture's production branches have a current instance on their tenant's runner: one daily backup each.
        Assert.Equal(2, await conn.ExecuteScalarAsync<int>("select ops.queue_daily_backups(now())", transaction: tx));
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select ops.queue_daily_backups(now())", transaction: tx));
        await tx.RollbackAsync();

        foreach (var sql in new[]
                 {
                     "select ops.request_backup(@ProductionBranchId)", "select ops.request_import(@ProductionBranchId)",
                     "select ops.request_verify(gen_random_uuid())", "select ops.request_download(gen_random_uuid())",
                     "select ops.request_restore(gen_random_uuid(), @ProductionBranchId, 'main')",
                     "select ops.finish_import(gen_random_uuid(), null, null, null, null, null, null, null, null, 'x')",
                 }.Concat(PrivateCalls))
        {
            var e = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => conn.ExecuteScalarAsync(sql, db.A));
            Assert.True(e.SqlState == "42501", $"{sql}: {e.SqlState} {e.MessageText}");
        }
    }
}
