using System.Net.Http.Headers;
using static OdooOps.Runners.Protocol.RunnerProtocol;
using OdooOps.Runners.Protocol;

namespace OdooOps.Runners.Agent;

/// <summary>The runner half of tasks and backup files (RunnerProtocol.Tasks.cs).</summary>
public sealed partial class DispatchClient
{
    /// <summary>One try, bounded by <see cref="CallTimeout"/>: the heartbeat calls again a second later anyway.</summary>
    public async Task<Extended> TaskExtendAsync(RunnerTask task, CancellationToken ct) =>
        (await PostAsync<Extended>(TaskExtend(task.TaskId), new TaskExtendRequest(task.LeaseId), retry: false, ct))!;

    /// <summary>One try: the log batcher retries the very same lines itself.</summary>
    public async Task<LogsAccepted> TaskLogsAsync(RunnerTask task, IReadOnlyList<LogLine> lines, CancellationToken ct) =>
        await PostAsync<LogsAccepted>(TaskLogs(task.TaskId), new TaskLogsRequest(task.LeaseId, lines), retry: false, ct) ?? new LogsAccepted(0);

    public Task TaskDoneAsync(RunnerTask task, string result, string? detail, Verification? verification, CancellationToken ct) =>
        PostAsync<object>(TaskDone(task.TaskId), new TaskDoneRequest(task.LeaseId, result, detail) { Verification = verification }, retry: true, ct);

    /// <summary>A production build's pre-deploy backup: the server makes its row, the build takes it.</summary>
    public async Task<Guid> JobBackupAsync(Job job, string kind, CancellationToken ct) =>
        (await PostAsync<JobBackupCreated>(JobBackups(job.BuildId), new JobBackupRequest(job.LeaseId, kind), retry: true, ct))!.BackupId;

    public Task BackupDoneAsync(Guid backupId, Guid leaseId, string result, string? detail, BackupFacts? facts, CancellationToken ct) =>
        PostAsync<object>(BackupDone(backupId), new BackupDoneRequest(leaseId, result, detail) { Facts = facts }, retry: true, ct);

    /// <summary>Streams a backup file to the server (one try: a failed upload fails the backup, and its task is retried whole).</summary>
    public async Task<ArtifactStored> UploadBackupAsync(Guid backupId, Guid leaseId, string file, CancellationToken ct)
    {
        await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
        using var content = new StreamContent(stream, 1 << 20);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
        content.Headers.ContentLength = stream.Length;
        using var response = await _bulk.PutAsync($"{BackupArtifact(backupId)}?lease_id={leaseId}", content, ct);
        await EnsureAsync(response, ct);
        return (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<ArtifactStored>(response.Content, Json, ct))!;
    }

    /// <summary>A stored backup file, written to <paramref name="file"/> (replaced).</summary>
    public async Task DownloadBackupAsync(Guid backupId, Guid leaseId, string file, CancellationToken ct)
    {
        using var response = await _bulk.GetAsync($"{BackupArtifact(backupId)}?lease_id={leaseId}", HttpCompletionOption.ResponseHeadersRead, ct);
        await EnsureAsync(response, ct);
        await using var source = await response.Content.ReadAsStreamAsync(ct);
        await using var target = new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
        await source.CopyToAsync(target, 1 << 20, ct);
    }
}
