using System.Net;
using System.Net.Http.Json;
using Dapper;
using OdooOps.Runners.Agent;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Runners;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Tests.Backups.Tasks;

/// <summary>
/// A server (<see cref="RunnerWorld"/>: its org, project "app" with branches main (production), staging and feature-x)
/// whose scheduler never rescues by itself (tests call the rescuer when they mean it), and what task tests need: runners
/// registered through the protocol, the rows other parts write (a branch's instance, a backup, a task, the stored
/// artifact's size and hash) made as the owner, and the protocol's task calls spoken over HTTP.
/// </summary>
public sealed class TaskWorld : IAsyncDisposable
{
    TaskWorld(RunnerWorld world) => World = world;

    public RunnerWorld World { get; }
    public Guid ProjectId => World.ProjectId;

    public static async Task<TaskWorld> StartAsync(PostgresCluster cluster, IDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?> { ["OPS_JOB_runner_rescue"] = "0 0 1 1 *" };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) all[k] = v;
        return new TaskWorld(await RunnerWorld.StartAsync(cluster, all));
    }

    public sealed record Runner(Guid Id, string Token);

    /// <summary>A runner of the world's org (or of <paramref name="orgId"/>), hosting instances unless <paramref name="buildsOnly"/>.</summary>
    public async Task<Runner> RunnerAsync(string name, Guid? orgId = null, bool buildsOnly = false)
    {
        var registered = await DispatchClient.RegisterAsync(World.Url,
            new RegisterRequest(await World.RegistrationTokenAsync(orgId), name, [], 2, "test"));
        if (buildsOnly) await ExecAsync("update ops.runners set serves_instances = false where id = @RunnerId", new { registered.RunnerId });
        return new Runner(registered.RunnerId, registered.Token);
    }

    public async Task<Guid> BranchAsync(string name = "main")
    {
        await using var conn = await Accounts.OpenAsync(World.Owner);
        return await conn.ExecuteScalarAsync<Guid>("select id from ops.branches where project_id = @ProjectId and name = @name", new { ProjectId, name });
    }

    /// <summary>Pins the branch to a runner host, as its first production or staging release does.</summary>
    public async Task PinAsync(string branch, Runner? runner) =>
        await ExecAsync("update ops.branches set runner_id = @id where project_id = @ProjectId and name = @branch", new { id = runner?.Id, ProjectId, branch });

    /// <summary>The branch's current instance on <paramref name="runner"/> (a successful build's), with host labels for its URL.</summary>
    public async Task<Guid> InstanceAsync(string branch, Runner runner, string database)
    {
        await using var conn = await Accounts.OpenAsync(World.Owner);
        return await conn.ExecuteScalarAsync<Guid>("""
            update ops.projects set host_label = 'app' where id = @ProjectId and host_label is null;
            update ops.branches set host_label = name where project_id = @ProjectId and name = @branch;
            with b as (insert into ops.builds (project_id, branch_id, status, finished_at)
                       select project_id, id, 'success', now() from ops.branches where project_id = @ProjectId and name = @branch
                       returning id, project_id, branch_id)
            insert into ops.instances (project_id, branch_id, build_id, runner_id, stage, database_name, is_current, state)
            select b.project_id, b.branch_id, b.id, @runner, br.stage, @database, true, 'running'
              from b join ops.branches br on br.id = b.branch_id
            returning id
            """, new { ProjectId, branch, runner = runner.Id, database });
    }

    /// <summary>A backup row as the backups' own functions make one.</summary>
    public async Task<Guid> BackupAsync(string branch = "main", string status = "pending", string verification = "pending",
        Guid? projectId = null, string kind = "daily", Runner? runner = null, TimeSpan? age = null)
    {
        await using var conn = await Accounts.OpenAsync(World.Owner);
        return await conn.ExecuteScalarAsync<Guid>("""
            insert into ops.backups (project_id, branch_id, kind, status, verification, runner_id, created_at,
                                     storage, storage_key, size_bytes, sha256)
            select project_id, id, @kind, @status, @verification, @runner, now() - @age,
                   case when @status = 'succeeded' then 'local' end, case when @status = 'succeeded' then 'k' end,
                   case when @status = 'succeeded' then 10 end, case when @status = 'succeeded' then repeat('a', 64) end
              from ops.branches where project_id = @project and name = @branch
            returning id
            """, new { project = projectId ?? ProjectId, branch, status, verification, kind, runner = runner?.Id, age = age ?? TimeSpan.Zero });
    }

    /// <summary>A queued task (placed on <paramref name="runner"/>, or nowhere: the branch's host takes it).</summary>
    public async Task<Guid> TaskAsync(string kind, Guid backupId, string branch = "main", Runner? runner = null, string options = "{}")
    {
        await using var conn = await Accounts.OpenAsync(World.Owner);
        return await conn.ExecuteScalarAsync<Guid>("""
            insert into ops.runner_tasks (project_id, branch_id, kind, backup_id, runner_id, options)
            select project_id, id, @kind, @backupId, @runner, @options::jsonb from ops.branches where project_id = @ProjectId and name = @branch
            returning id
            """, new { ProjectId, branch, kind, backupId, runner = runner?.Id, options });
    }

    /// <summary>What the artifact upload records on the backup (the server's own count and SHA-256 of the zip).</summary>
    public Task StoreArtifactAsync(Guid backupId, long size, string sha256) =>
        ExecAsync("update ops.backups set storage = 'local', storage_key = @key, size_bytes = @size, sha256 = @sha256 where id = @backupId",
            new { backupId, key = $"backups/{backupId}.zip", size, sha256 });

    public sealed record TaskRow(string Status, string? Detail, int Attempt, bool CancelRequested, Guid? LeasedRunnerId, string? Result);
    public sealed record BackupRow(string Status, string? Reason, string Verification, string? VerificationReason, DateTime? VerifiedAt,
        Guid? RunnerId, DateTime? StartedAt, string? DatabaseName, Guid? BuildId, int? TableCount, string? Modules);

    public async Task<TaskRow> TaskRowAsync(Guid id)
    {
        await using var conn = await Accounts.OpenAsync(World.Owner);
        return await conn.QuerySingleAsync<TaskRow>(
            "select status, detail, attempt, cancel_requested, leased_runner_id, result::text as result from ops.runner_tasks where id = @id", new { id });
    }

    public async Task<BackupRow> BackupRowAsync(Guid id)
    {
        await using var conn = await Accounts.OpenAsync(World.Owner);
        return await conn.QuerySingleAsync<BackupRow>("""
            select status, reason, verification, verification_reason, verified_at, runner_id, started_at, database_name, build_id,
                   table_count, modules::text as modules
              from ops.backups where id = @id
            """, new { id });
    }

    public async Task<List<string>> TaskLogAsync(Guid id)
    {
        await using var conn = await Accounts.OpenAsync(World.Owner);
        return [.. await conn.QueryAsync<string>("select seq || ' ' || stream || ': ' || line from ops.runner_task_logs where task_id = @id order by seq", new { id })];
    }

    public async Task ExecAsync(string sql, object? args = null)
    {
        await using var conn = await Accounts.OpenAsync(World.Owner);
        await conn.ExecuteAsync(sql, args);
    }

    public async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var conn = await Accounts.OpenAsync(World.Owner);
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    /// <summary>Expires a task's lease, as a runner that stopped answering lets it.</summary>
    public Task ExpireAsync(Guid taskId) =>
        ExecAsync("update ops.runner_tasks set lease_until = now() - interval '1 second' where id = @taskId", new { taskId });

    public async Task<(int Requeued, int Failed, int Cancelled)> RescueAsync()
    {
        await using var conn = await Accounts.OpenAsync(World.Owner);
        return await conn.QuerySingleAsync<(int, int, int)>("select requeued, failed, cancelled from ops.rescue_task_leases()");
    }

    // ----- the protocol, over HTTP -----

    public async Task<HttpResponseMessage> PostAsync(Runner runner, string path, object body)
    {
        using var http = new HttpClient { BaseAddress = World.Url };
        http.DefaultRequestHeaders.Authorization = new("Bearer", runner.Token);
        return await http.PostAsJsonAsync(path, body, Json);
    }

    /// <summary>An instance sync reporting nothing: the tasks it leases.</summary>
    public async Task<IReadOnlyList<RunnerTask>> SyncAsync(Runner runner)
    {
        using var response = await PostAsync(runner, InstancesSync, new SyncRequest(null, [], []));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<SyncResponse>(Json))!.Tasks;
    }

    public async Task<HttpStatusCode> StatusAsync(Runner runner, string path, object body)
    {
        using var response = await PostAsync(runner, path, body);
        return response.StatusCode;
    }

    public Task<HttpStatusCode> DoneAsync(Runner runner, RunnerTask task, string result, string? detail = null, Verification? verification = null) =>
        StatusAsync(runner, TaskDone(task.TaskId), new TaskDoneRequest(task.LeaseId, result, detail) { Verification = verification });

    public static BackupFacts Facts(long size, string sha256) =>
        new(size, sha256, 1234, "19.0", [new BackupModule("base", "installed", "19.0.1.3"), new BackupModule("sale", "installed", "19.0.1.2")],
            120, 3, 4096, new string('f', 64));

    public Task<HttpStatusCode> BackupDoneAsync(Runner runner, Guid backupId, Guid leaseId, string result, BackupFacts? facts = null, string? detail = null) =>
        StatusAsync(runner, BackupDone(backupId), new BackupDoneRequest(leaseId, result, detail) { Facts = facts });

    public ValueTask DisposeAsync() => World.DisposeAsync();
}
