using Dapper;
using Npgsql;
using OdooOps.Runners.Agent.Instances;
using OdooOps.Runners.Agent.Tasks;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Instances;
using OdooOps.Tests.Runners.Agent.Execution;

namespace OdooOps.Tests.Runners.Tasks;

/// <summary>
/// The reliability trials: `odooops runner` as a real process, SIGKILLed in the middle of a backup, a verification, a
/// restore and a production update (held there by a failpoint, or by the stand-in hanging halfway through its update),
/// then started again. Each time: the work is retried and ends well, what the killed attempt left is gone, the live
/// database is never half-restored, and the previous release serves again on the database as it was.
/// The scheduled rescuer is off: each test expires the dead runner's lease itself, once it has seen what the restart did.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class KillTrialTests(PostgresCluster cluster) : IAsyncLifetime
{
    InstanceWorld _world = null!;
    string _token = null!;
    RunnerProcess? _runner;

    public async ValueTask InitializeAsync()
    {
        _world = await InstanceWorld.StartAsync(cluster, new Dictionary<string, string?> { ["OPS_JOB_runner_rescue"] = "0 0 29 2 *" });
        _token = await _world.World.RunnerTokenAsync("host-proc", capacity: 2);
    }

    public async ValueTask DisposeAsync() => await _world.DisposeAsync();

    string WorkDir => Path.Combine(_world.World.WorkDir, "host-proc");

    void Start(string? failpoint = null)
    {
        var env = new Dictionary<string, string>
        {
            ["OPS_ODOO_BIN"] = _world.OdooBin, ["OPS_ODOO_DB"] = _world.OdooDb, ["OPS_INSTANCE_HEALTH_SECONDS"] = "1",
            ["OPS_SANDBOX_LOCK_DIR"] = Path.Combine(_world.World.WorkDir, "uid-locks"), ["OPS_RUNNER_FAILPOINTS"] = failpoint ?? "",
        };
        _runner = _world.World.Track(new RunnerProcess(CliRunner.StartInfo(
            ["runner", "--url", _world.World.Url.ToString(), "--token", _token, "--name", "host-proc", "--capacity", "2", "--work-dir", WorkDir], env)));
    }

    /// <summary>SIGKILL, then the time of it (the instances it hosted die with it).</summary>
    async Task<DateTime> KillAsync()
    {
        var at = DateTime.UtcNow;
        await _runner!.KillAsync();
        return at;
    }

    async Task<T> QueryAsync<T>(string sql, object? args = null)
    {
        await using var conn = await Accounts.OpenAsync(_world.World.Owner);
        return await conn.QuerySingleAsync<T>(sql, args);
    }

    async Task ExecAsync(string sql, object? args = null)
    {
        await using var conn = await Accounts.OpenAsync(_world.World.Owner);
        await conn.ExecuteAsync(sql, args);
    }

    async Task UntilAsync(Func<Task<bool>> condition, string what, int seconds = 120)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what}; runner:\n{_runner?.Output}");
            await Task.Delay(200);
        }
    }

    Task<Guid> BranchAsync(string name) =>
        QueryAsync<Guid>("select id from ops.branches where project_id = @ProjectId and name = @name", new { _world.World.ProjectId, name });

    Task<Guid> QueueBackupAsync(Guid branch) => QueryAsync<Guid>("select ops_private.queue_backup(@branch, 'manual', null, null)", new { branch });

    async Task<string> TaskLogAsync(Guid task)
    {
        await using var conn = await Accounts.OpenAsync(_world.World.Owner);
        return string.Join("\n", await conn.QueryAsync<string>("select line from ops.runner_task_logs where task_id = @task order by seq", new { task }));
    }

    async Task<Guid> HeldTaskAsync(Guid backup, string kind, string failpoint)
    {
        var task = Guid.Empty;
        await UntilAsync(async () =>
        {
            await using var conn = await Accounts.OpenAsync(_world.World.Owner);
            task = await conn.QuerySingleOrDefaultAsync<Guid>("select id from ops.runner_tasks where backup_id = @backup and kind = @kind", new { backup, kind });
            return task != Guid.Empty && (await TaskLogAsync(task)).Contains($"Failpoint {failpoint}: holding");
        }, $"the {kind} task of backup {backup} never held at {failpoint}");
        return task;
    }

    /// <summary>The dead runner's lease runs out and the rescuer queues the task again (attempt 2).</summary>
    async Task RescueTaskAsync(Guid task)
    {
        await ExecAsync("update ops.runner_tasks set lease_until = now() - interval '1 second' where id = @task", new { task });
        Assert.Equal(1, await QueryAsync<int>("select requeued from ops.rescue_task_leases()"));
    }

    async Task<(string Status, string Verification, string? Reason)> WaitForBackupAsync(Guid backup, Func<(string Status, string Verification, string? Reason), bool> done)
    {
        (string, string, string?) last = default;
        await UntilAsync(async () =>
        {
            last = await QueryAsync<(string, string, string?)>("select status, verification, coalesce(verification_reason, reason) from ops.backups where id = @backup", new { backup });
            return done(last);
        }, $"backup {backup}: {last}");
        return last;
    }

    async Task<string> TaskStatusAsync(Guid task)
    {
        var status = "";
        await UntilAsync(async () => (status = await QueryAsync<string>("select status from ops.runner_tasks where id = @task", new { task }))
            is "succeeded" or "failed" or "cancelled", $"task {task} still {status}");
        return status;
    }

    OdooDatabaseServer Server => OdooDatabaseServer.From(_world.OdooDb)!;

    NpgsqlConnection Odoo(string database) => new(Server.ProjectConnection(_world.World.ProjectId, true, database).ConnectionString);

    async Task<bool> DatabaseExistsAsync(string name)
    {
        await using var conn = Odoo("postgres");
        return await conn.ExecuteScalarAsync<bool>("select exists (select 1 from pg_database where datname = @name)", new { name });
    }

    async Task<List<string>> UsersAsync(string database)
    {
        await using var conn = Odoo(database);
        return [.. await conn.QueryAsync<string>("select login from res_users order by login")];
    }

    /// <summary>The release, the version of sale_extra and the database the branch's server answers with, once running again after <paramref name="since"/>.</summary>
    async Task<(string Release, string Module)> ServingAgainAsync(Guid buildId, DateTime since)
    {
        var back = await _world.WaitForInstanceAsync(buildId, i => i.State == "running" && i.StartedAt > since, TimeSpan.FromSeconds(120));
        var info = await InstanceWorld.InfoAsync(back.HttpPort!.Value);
        return (info.GetProperty("release").GetString()!, info.GetProperty("modules").GetProperty("sale_extra").GetString()!);
    }

    [Fact]
    public async Task A_backup_killed_before_it_is_sent_is_taken_again_by_the_next_attempt()
    {
        Start(OdooOps.Runners.Agent.Failpoints.BackupWritten);
        var a = await _world.DeployAsync("main");
        var backup = await QueueBackupAsync(await BranchAsync("main"));
        var task = await HeldTaskAsync(backup, "backup", "backup.written");
        Assert.True(File.Exists(Path.Combine(WorkDir, "tasks", task.ToString("D"), "backup.zip")), "the killed attempt had its zip written");
        var killedAt = await KillAsync();

        Start();
        await ServingAgainAsync(a.BuildId, killedAt); // after the leftovers are cleared: they go before any server starts
        Assert.False(Directory.Exists(Path.Combine(WorkDir, "tasks", task.ToString("D"))), "the killed attempt's folder is gone");
        await RescueTaskAsync(task);
        var done = await WaitForBackupAsync(backup, b => b.Status is "succeeded" or "failed" && b.Verification is "verified" or "failed");
        Assert.Equal(("succeeded", "verified"), (done.Status, done.Verification));
        var log = await TaskLogAsync(task);
        Assert.Contains("Attempt 1 lost its runner", log);
        Assert.Contains("Attempt 2 on runner host-proc", log);
    }

    [Fact]
    public async Task A_verification_killed_with_its_scratch_database_restored_leaves_nothing_and_is_verified_again()
    {
        Start(OdooOps.Runners.Agent.Failpoints.VerifyRestored);
        var a = await _world.DeployAsync("main");
        var backup = await QueueBackupAsync(await BranchAsync("main"));
        var task = await HeldTaskAsync(backup, "verify", "verify.restored");
        var scratch = LiveRestore.ScratchName("oo-verify-", task);
        Assert.True(await DatabaseExistsAsync(scratch), $"the killed verification had restored {scratch}");
        var killedAt = await KillAsync();

        Start();
        await ServingAgainAsync(a.BuildId, killedAt);
        Assert.False(await DatabaseExistsAsync(scratch), $"{scratch} is dropped at the runner's start");
        await RescueTaskAsync(task);
        var status = await TaskStatusAsync(task);
        Assert.True(status == "succeeded", $"the retried verification {status}:\n{await TaskLogAsync(task)}\nrunner:\n{_runner?.Output}");
        var done = await WaitForBackupAsync(backup, b => b.Verification is "verified" or "failed");
        Assert.True(done.Verification == "verified", done.Reason);
        Assert.False(await DatabaseExistsAsync(scratch));
    }

    [Fact]
    public async Task A_restore_killed_before_its_swap_leaves_the_live_database_as_it_was_and_its_retry_restores_exactly_the_backup()
    {
        Start(OdooOps.Runners.Agent.Failpoints.RestoreBuilt);
        var a = await _world.DeployAsync("main");
        var branch = await BranchAsync("main");
        var backup = await QueueBackupAsync(branch);
        Assert.Equal("verified", (await WaitForBackupAsync(backup, b => b.Verification is "verified" or "failed")).Verification);
        var backedUp = await UsersAsync(a.DatabaseName);
        await using (var conn = Odoo(a.DatabaseName))
            await conn.ExecuteAsync("insert into res_users (login, active) values ('after-the-backup', true)");

        await ExecAsync("insert into ops.runner_tasks (project_id, branch_id, kind, backup_id) values (@ProjectId, @branch, 'restore', @backup)",
            new { _world.World.ProjectId, branch, backup });
        var task = await HeldTaskAsync(backup, "restore", "restore.built");
        var restored = LiveRestore.ScratchName("oo-restore-", task);
        Assert.True(await DatabaseExistsAsync(restored), $"the killed restore had built {restored}");
        // Built beside it: the live server still serves while the restore is made.
        Assert.Equal(a.BuildId.ToString(), (await InstanceWorld.InfoAsync(a.HttpPort!.Value)).GetProperty("release").GetString());
        var killedAt = await KillAsync();

        Start();
        await ServingAgainAsync(a.BuildId, killedAt);
        Assert.Contains("after-the-backup", await UsersAsync(a.DatabaseName)); // untouched: nothing half-restored went live
        Assert.False(await DatabaseExistsAsync(restored), $"{restored} is dropped at the runner's start");

        await RescueTaskAsync(task);
        var status = await TaskStatusAsync(task);
        Assert.True(status == "succeeded", $"the retried restore {status}:\n{await TaskLogAsync(task)}\nrunner:\n{_runner?.Output}");
        Assert.Equal(backedUp, await UsersAsync(a.DatabaseName));
        await ServingAgainAsync(a.BuildId, killedAt);
    }

    [Fact]
    public async Task A_production_update_killed_halfway_is_undone_at_the_runner_s_start_and_the_retry_deploys_it()
    {
        Start();
        var a = await _world.DeployAsync("main");
        await using (var conn = Odoo(a.DatabaseName))
            await conn.ExecuteAsync("insert into res_users (login, active) values ('customer-data', true)");
        var users = await UsersAsync(a.DatabaseName);

        // The next commit changes the module's version; the stand-in commits the update's first module, then hangs.
        await _world.World.Repo.CommitFilesAsync("a long update", InstanceWorld.Manifest("sale_extra", "19.0.1.1.0"),
            ("standin.json", "{\"STANDIN_HANG_UPDATE\": true}"));
        var b = await _world.World.QueueBuildAsync("main");
        await UntilAsync(async () => string.Join("\n", await _world.World.LogAsync(b)).Contains("STANDIN_HANG_UPDATE"), $"build {b} never hung in its update");
        await using (var conn = Odoo(a.DatabaseName))
            Assert.Equal("19.0.1.1.0", await conn.ExecuteScalarAsync<string>("select latest_version from ir_module_module where name = 'sale_extra'"));
        var killedAt = await KillAsync();

        // Started again: the half-updated database is put back from the pre-deploy backup before release A starts on it.
        Start();
        Assert.Equal((a.BuildId.ToString(), "19.0.1.0.0"), await ServingAgainAsync(a.BuildId, killedAt));
        Assert.Equal(users, await UsersAsync(a.DatabaseName));
        Assert.False(Directory.Exists(Path.Combine(WorkDir, "deploys", b.ToString("D"))));
        Assert.False(Directory.Exists(Path.Combine(WorkDir, "builds", b.ToString("D"))), "the interrupted build's workspace is gone");

        // The build's lease runs out: attempt 2 updates the database as it was, and B goes live.
        await ExecAsync("update ops.run_queue set lease_until = now() - interval '1 second' where build_id = @b", new { b });
        Assert.Equal(1, await QueryAsync<int>("select requeued from ops.rescue_build_leases()"));
        var build = await _world.World.WaitForAsync(b, TimeSpan.FromSeconds(180));
        Assert.True(build.Status == "success", string.Join("\n", await _world.World.LogAsync(b)));
        Assert.Equal(2, build.Attempt);
        Assert.Equal((b.ToString(), "19.0.1.1.0"), await ServingAgainAsync(b, killedAt));
        Assert.Equal(users, await UsersAsync(a.DatabaseName));
    }
}
