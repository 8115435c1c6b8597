using System.Net.Http.Headers;
using System.Net.Http.Json;
using Dapper;
using OdooOps.Backups.Storage;
using OdooOps.Runners.Protocol;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Runners;
using OdooOps.Tests.Runners.Agent.Execution;

namespace OdooOps.Tests.Backups.Storage;

/// <summary>
/// A real server (Kestrel on loopback) whose backups go to a temporary folder, or to a bucket when settings say so,
/// and the rows the artifact calls check, written as the task and build code would leave them: backups, running tasks
/// with their leases, leased builds.
/// </summary>
public sealed class BackupWorld : IAsyncDisposable
{
    public RunnerWorld World { get; }
    public string Folder { get; }

    BackupWorld(RunnerWorld world, string folder) => (World, Folder) = (world, folder);

    public static async Task<BackupWorld> StartAsync(PostgresCluster cluster, IDictionary<string, string?>? settings = null)
    {
        var folder = ProcessProbe.NewTempDir("odooops-backups");
        var all = new Dictionary<string, string?>
        {
            ["OPS_BACKUP_STORAGE"] = Path.Combine(folder, "store"),
            ["OPS_DATA_DIR"] = folder, // the upload spool (tmp/) too
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) all[k] = v;
        return new BackupWorld(await RunnerWorld.StartAsync(cluster, all), folder);
    }

    public Guid ProjectId => World.ProjectId;
    internal BackupStores Stores => World.Service<BackupStores>();
    public BackupLinks Links => World.Service<BackupLinks>();

    public async Task<Guid> BranchAsync(string name = "main")
    {
        await using var conn = await Accounts.OpenAsync(World.Owner);
        return await conn.ExecuteScalarAsync<Guid>("select id from ops.branches where project_id = @ProjectId and name = @name", new { ProjectId, name });
    }

    public async Task<Guid> BackupAsync(string branch = "main", string status = "running", Guid? buildId = null, string kind = "manual")
    {
        await using var conn = await Accounts.OpenAsync(World.Owner);
        return await conn.ExecuteScalarAsync<Guid>("""
            insert into ops.backups (project_id, branch_id, kind, status, build_id)
            select project_id, id, @kind, @status, @buildId from ops.branches where project_id = @ProjectId and name = @branch
            returning id
            """, new { ProjectId, branch, status, buildId, kind });
    }

    /// <summary>A task of the backup, running and leased to <paramref name="runnerId"/> until <paramref name="leaseSeconds"/> from now; its lease id.</summary>
    public async Task<Guid> TaskAsync(Guid backupId, Guid runnerId, string kind = "backup", string status = "running", int leaseSeconds = 3600)
    {
        var lease = Guid.NewGuid();
        await using var conn = await Accounts.OpenAsync(World.Owner);
        await conn.ExecuteAsync("""
            insert into ops.runner_tasks (project_id, branch_id, kind, backup_id, runner_id, status, lease_id, lease_until, leased_runner_id, attempt, started_at)
            select b.project_id, b.branch_id, @kind, b.id, @runnerId, @status, @lease, now() + make_interval(secs => @leaseSeconds), @runnerId, 1, now()
              from ops.backups b where b.id = @backupId
            """, new { backupId, runnerId, kind, status, lease, leaseSeconds });
        return lease;
    }

    /// <summary>A build of <paramref name="branch"/> (of the world's project, or <paramref name="projectId"/>'s) leased to
    /// <paramref name="runnerId"/> (as jobs/next leaves it); its id and lease.</summary>
    public async Task<(Guid BuildId, Guid LeaseId)> LeasedBuildAsync(Guid runnerId, string branch = "main", Guid? projectId = null)
    {
        var lease = Guid.NewGuid();
        await using var conn = await Accounts.OpenAsync(World.Owner);
        var build = await conn.ExecuteScalarAsync<Guid>("""
            insert into ops.builds (project_id, branch_id, trigger, commit_sha)
            select project_id, id, 'push', @commit from ops.branches where project_id = @project and name = @branch
            returning id
            """, new { project = projectId ?? ProjectId, branch, commit = Guid.NewGuid().ToString("N")[..12] });
        await conn.ExecuteAsync("""
            update ops.run_queue set state = 'leased', lease_owner = @runnerId, lease_id = @lease, lease_until = now() + interval '1 hour' where build_id = @build;
            update ops.builds set status = 'running', started_at = now() where id = @build;
            """, new { runnerId, lease, build });
        return (build, lease);
    }

    public sealed record BackupRow(string Status, string? Storage, string? StorageKey, long? SizeBytes, string? Sha256);

    public async Task<BackupRow> RowAsync(Guid backupId)
    {
        await using var conn = await Accounts.OpenAsync(World.Owner);
        return await conn.QuerySingleAsync<BackupRow>("select status, storage, storage_key, size_bytes, sha256 from ops.backups where id = @backupId", new { backupId });
    }

    /// <summary>Marks a backup taken and stored (what BackupDone leaves), for the read paths.</summary>
    public async Task StoredAsync(Guid backupId, string storage, string key, long size, string sha256)
    {
        await using var conn = await Accounts.OpenAsync(World.Owner);
        await conn.ExecuteAsync("""
            update ops.backups set status = 'succeeded', storage = @storage, storage_key = @key, size_bytes = @size, sha256 = @sha256, finished_at = now()
             where id = @backupId
            """, new { backupId, storage, key, size, sha256 });
    }

    public async Task ExecAsync(string sql, object? args = null)
    {
        await using var conn = await Accounts.OpenAsync(World.Owner);
        await conn.ExecuteAsync(sql, args);
    }

    /// <summary>The rescuer's pass over tasks (the scheduler's is turned off where a test means to call it).</summary>
    public async Task<(int Requeued, int Failed, int Cancelled)> RescueAsync()
    {
        await using var conn = await Accounts.OpenAsync(World.Owner);
        return await conn.QuerySingleAsync<(int, int, int)>("select requeued, failed, cancelled from ops.rescue_task_leases()");
    }

    /// <summary>POST backups/{id}/done, the runner's report of the backup.</summary>
    public static Task<HttpResponseMessage> BackupDoneAsync(HttpClient runner, Guid backupId, Guid leaseId, string result,
        RunnerProtocol.BackupFacts? facts = null) =>
        runner.PostAsJsonAsync(RunnerProtocol.BackupDone(backupId), new RunnerProtocol.BackupDoneRequest(leaseId, result, null) { Facts = facts },
            RunnerProtocol.Json);

    public HttpClient Runner(string token)
    {
        var http = new HttpClient { BaseAddress = World.Url, Timeout = TimeSpan.FromMinutes(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    public static string ArtifactPath(Guid backupId, Guid leaseId) => $"{RunnerProtocol.BackupArtifact(backupId)}?lease_id={leaseId}";

    public async ValueTask DisposeAsync()
    {
        await World.DisposeAsync();
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
