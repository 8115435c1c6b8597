using Dapper;
using Npgsql;
using OdooOps.Backups.Storage;
using OdooOps.Runners.Agent.Instances;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Instances;
using OdooOps.Tests.Runners.Agent.Execution;

namespace OdooOps.Tests.Runners.Tasks;

/// <summary>
/// Runner tasks for real: a runner hosting a sandboxed stand-in production server backs it up (the zip goes to serve's
/// storage), the backup is verified by restoring it into a scratch database, a restore puts exactly its rows and files
/// back under the live server, and a stored file altered afterwards fails its verification.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class BackupTaskTests(PostgresCluster cluster) : IAsyncLifetime
{
    InstanceWorld _world = null!;

    public async ValueTask InitializeAsync()
    {
        _world = await InstanceWorld.StartAsync(cluster);
        await _world.StartRunnerAsync();
    }

    public async ValueTask DisposeAsync() => await _world.DisposeAsync();

    async Task<Guid> BranchIdAsync(string name)
    {
        await using var conn = await Accounts.OpenAsync(_world.World.Owner);
        return await conn.ExecuteScalarAsync<Guid>("select id from ops.branches where project_id = @ProjectId and name = @name",
            new { _world.World.ProjectId, name });
    }

    sealed record BackupRow(string Status, string? Reason, string Verification, string? VerificationReason, string? StorageKey, long? SizeBytes,
        int? FilestoreFiles, int? TableCount);

    async Task<BackupRow> WaitForBackupAsync(Guid id, Func<BackupRow, bool> condition)
    {
        BackupRow? last = null;
        await UntilAsync(async () =>
        {
            await using var conn = await Accounts.OpenAsync(_world.World.Owner);
            last = await conn.QuerySingleAsync<BackupRow>("""
                select status, reason, verification, verification_reason, storage_key, size_bytes, filestore_files, table_count
                  from ops.backups where id = @id
                """, new { id });
            return condition(last);
        }, TimeSpan.FromSeconds(120), () => $"backup {id}: {last}; runner:\n{_world.RunnerLog.Tail()}");
        return last!;
    }

    async Task<(string Status, string? Detail)> WaitForTaskAsync(Guid id)
    {
        (string Status, string? Detail) last = default;
        await UntilAsync(async () =>
        {
            await using var conn = await Accounts.OpenAsync(_world.World.Owner);
            last = await conn.QuerySingleAsync<(string, string?)>("select status, detail from ops.runner_tasks where id = @id", new { id });
            return last.Status is "succeeded" or "failed" or "cancelled";
        }, TimeSpan.FromSeconds(120), () => $"task {id}: {last}; runner:\n{_world.RunnerLog.Tail()}");
        return last;
    }

    static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException(describe());
            await Task.Delay(200);
        }
    }

    async Task<Guid> QueueAsync(string sql, object args)
    {
        await using var conn = await Accounts.OpenAsync(_world.World.Owner);
        return await conn.ExecuteScalarAsync<Guid>(sql, args);
    }

    /// <summary>A manual backup of the branch and its task on the branch's host (the backups' own queueing function).</summary>
    Task<Guid> QueueBackupAsync(Guid branch) =>
        QueueAsync("select ops_private.queue_backup(@branch, 'manual', null, null)", new { branch });

    NpgsqlConnection Odoo(string database) =>
        new(OdooDatabaseServer.From(_world.OdooDb)!.ProjectConnection(_world.World.ProjectId, production: true, database).ConnectionString);

    static async Task<List<string>> UsersAsync(NpgsqlConnection conn) => [.. await conn.QueryAsync<string>("select login from res_users order by id")];

    [Fact]
    public async Task A_production_backup_is_verified_and_a_restore_brings_back_exactly_its_rows_and_files()
    {
        var instance = await _world.DeployAsync("main");
        var branch = await BranchIdAsync("main");
        var backupId = await QueueBackupAsync(branch);
        var backup = await WaitForBackupAsync(backupId, b => b.Status == "succeeded" && b.Verification is "verified" or "failed");
        Assert.True(backup.Verification == "verified", backup.VerificationReason);
        Assert.True(backup.SizeBytes > 0 && backup.TableCount > 0, backup.ToString());
        var stored = Path.Combine(_world.World.Service<BackupStores>().Settings.Folder, backup.StorageKey!);
        Assert.True(File.Exists(stored), stored);

        // After the backup: a new user, a new file in the filestore, a deleted one.
        var dataDir = InstanceLaunch.DataDirOf(Path.Combine(_world.World.WorkDir, "host-1"), branch, "production", instance.DatabaseName);
        var filestore = Path.Combine(dataDir, "filestore", instance.DatabaseName);
        var filesBefore = Directory.EnumerateFiles(filestore, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(filestore, f)).Order().ToList();
        Assert.NotEmpty(filesBefore);
        List<string> usersBefore;
        await using (var conn = Odoo(instance.DatabaseName))
        {
            usersBefore = await UsersAsync(conn);
            await conn.ExecuteAsync("insert into res_users (login, active) values ('after-the-backup', true)");
        }
        await File.WriteAllTextAsync(Path.Combine(filestore, filesBefore[0] + ".new"), "written after the backup");

        var restore = await QueueAsync("""
            insert into ops.runner_tasks (project_id, branch_id, kind, backup_id) values (@ProjectId, @branch, 'restore', @backupId) returning id
            """, new { _world.World.ProjectId, branch, backupId });
        var (status, detail) = await WaitForTaskAsync(restore);
        Assert.True(status == "succeeded", $"{status}: {detail}\n{_world.RunnerLog.Tail()}");

        await using (var conn = Odoo(instance.DatabaseName))
            Assert.Equal(usersBefore, await UsersAsync(conn));
        var filesAfter = Directory.EnumerateFiles(filestore, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(filestore, f)).Order().ToList();
        Assert.Equal(filesBefore, filesAfter);
        // The production server answers again, on the restored database.
        var back = await _world.WaitForInstanceAsync(instance.BuildId, i => i.State == "running" && i.StartedAt > instance.StartedAt);
        var info = await InstanceWorld.InfoAsync(back.HttpPort!.Value);
        Assert.Equal(instance.DatabaseName, info.GetProperty("database").GetString());
        // Nothing of the restore is left beside the live database.
        await using (var admin = new NpgsqlConnection(OdooDatabaseServer.From(_world.OdooDb)!.ProjectConnection(_world.World.ProjectId, true, "postgres").ConnectionString))
            Assert.Empty(await admin.QueryAsync<string>("select datname from pg_database where datname = any(@names)", new
            {
                names = new[] { "oo-restore-", "oo-replaced-" }.Select(p => OdooOps.Runners.Agent.Tasks.LiveRestore.ScratchName(p, restore)).ToArray(),
            }));
    }

    [Fact]
    public async Task A_stored_backup_altered_after_the_fact_fails_its_verification()
    {
        await _world.DeployAsync("main");
        var branch = await BranchIdAsync("main");
        var backupId = await QueueBackupAsync(branch);
        var backup = await WaitForBackupAsync(backupId, b => b.Verification is "verified" or "failed");
        Assert.Equal("verified", backup.Verification);

        var stored = Path.Combine(_world.World.Service<BackupStores>().Settings.Folder, backup.StorageKey!);
        var bytes = await File.ReadAllBytesAsync(stored);
        bytes[bytes.Length / 3] ^= 0x5A;
        await File.WriteAllBytesAsync(stored, bytes);
        await QueueAsync("select ops_private.queue_verify(@backupId)", new { backupId });
        var failed = await WaitForBackupAsync(backupId, b => b.Verification is "failed");
        Assert.Contains("SHA-256", failed.VerificationReason!, StringComparison.OrdinalIgnoreCase);
    }
}
