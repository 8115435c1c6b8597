using OdooOps.Runners.Agent.Execution;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Runners.Agent.Tasks;

/// <summary>
/// Runs one leased task (a backup, its verification, a restore) the way a build runs: a heartbeat renews the lease every
/// second, the log goes to the server in numbered batches, the result ends it. A lost lease, a disabled runner or a
/// stopping runner stops the work and reports nothing: the server's rescuer queues the task again after its lease.
/// Each task works in its own folder under the work dir (<c>tasks/&lt;id&gt;</c>), deleted however it ends.
/// </summary>
internal sealed class TaskExecutor(DispatchClient client, RunnerOptions options, Instances.InstanceSupervisor supervisor, ILogger log)
{
    public async Task RunAsync(RunnerTask task, CancellationToken stopping)
    {
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        using var reported = new CancellationTokenSource();
        bool lost = false, cancelled = false;
        await using var logs = new LogBatcher(async (lines, ct) =>
        {
            try { return (await client.TaskLogsAsync(task, [.. lines.Select(l => new Protocol.RunnerProtocol.LogLine(l.Seq, l.Timestamp.UtcDateTime, l.Stream, l.Text))], ct)).Cut; }
            catch (LeaseLostException) { lost = true; await abort.CancelAsync(); }
            catch (HttpRequestException e) when (!DispatchClient.IsTransient(e))
            {
                log.LogError("Task {TaskId}: the server refused log lines ({Message}); they are dropped.", task.TaskId, e.Message);
            }
            return false;
        }, task.LogSeqStart);
        var heartbeat = HeartbeatAsync(task, abort, () => lost = true, () => cancelled = true, reported.Token);
        var folder = Path.Combine(Path.GetFullPath(options.WorkDir), "tasks", task.TaskId.ToString("D"));
        WorkspaceFolder.Delete(folder); // an earlier attempt's, killed midway
        Directory.CreateDirectory(folder);
        File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        void Say(string text) => logs.Add(LogStream.System, text, DateTimeOffset.UtcNow);
        try
        {
            Say($"Attempt {task.Attempt} on runner {options.Name}: {task.Kind} of backup {task.BackupId} for {task.ProjectSlug} {task.Branch} ({task.Stage})");
            string result, detail;
            Verification? verification = null;
            try
            {
                var work = new TaskWork(client, options, supervisor, task, folder, Say);
                (result, detail, verification) = task.Kind switch
                {
                    "backup" => await work.BackupAsync(abort.Token),
                    "verify" => await work.VerifyAsync(abort.Token),
                    "restore" => await work.RestoreAsync(abort.Token),
                    _ => ("failed", $"this runner does not know tasks of kind '{task.Kind}'", null),
                };
            }
            catch (OperationCanceledException) when (cancelled && !lost && !stopping.IsCancellationRequested)
            {
                (result, detail) = ("failed", "cancelled on request");
            }
            catch (OperationCanceledException) when (abort.IsCancellationRequested)
            {
                log.LogWarning("Task {TaskId}: {Why}; not reporting a result.", task.TaskId, lost ? "the lease was lost" : "the runner is stopping");
                return;
            }
            catch (LeaseLostException)
            {
                log.LogWarning("Task {TaskId}: the lease was lost; not reporting a result.", task.TaskId);
                return;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or InvalidDataException
                                       or ArgumentException or Backups.BackupException or Npgsql.NpgsqlException or HttpRequestException
                                       or TaskCanceledException { CancellationToken.IsCancellationRequested: false })
            {
                log.LogError(e, "Task {TaskId} failed.", task.TaskId);
                (result, detail) = ("failed", e.Message);
            }
            Say($"Result: {result}{(string.IsNullOrEmpty(detail) ? "" : $" — {detail}")}");
            using (var flush = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            {
                try { await logs.FlushAsync(flush.Token); }
                catch (OperationCanceledException) { log.LogWarning("Task {TaskId}: the last log lines could not be sent in time.", task.TaskId); }
            }
            try { await client.TaskDoneAsync(task, result, detail, verification, CancellationToken.None); }
            catch (LeaseLostException) { log.LogWarning("Task {TaskId}: the lease was lost before the result was reported.", task.TaskId); }
            catch (HttpRequestException e) { log.LogError("Task {TaskId}: the result could not be reported ({Message}).", task.TaskId, e.Message); }
        }
        finally
        {
            await reported.CancelAsync();
            await heartbeat;
            WorkspaceFolder.Delete(folder);
        }
    }

    /// <summary>Renews the lease every second; a cancel request, a lost lease or a lease that ran out unreachable aborts the work.</summary>
    async Task HeartbeatAsync(RunnerTask task, CancellationTokenSource abort, Action leaseLost, Action cancelRequested, CancellationToken until)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(HeartbeatSeconds));
        var renewed = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            while (await timer.WaitForNextTickAsync(until))
            {
                try
                {
                    var extended = await client.TaskExtendAsync(task, until);
                    renewed.Restart();
                    if (extended.CancelRequested)
                    {
                        cancelRequested();
                        await abort.CancelAsync();
                    }
                }
                catch (Exception e) when (e is LeaseLostException || e is HttpRequestException { StatusCode: System.Net.HttpStatusCode.Unauthorized })
                {
                    leaseLost();
                    await abort.CancelAsync();
                }
                catch (Exception e) when (e is HttpRequestException or System.Text.Json.JsonException)
                {
                    log.LogWarning("Task {TaskId}: heartbeat failed ({Message}); retrying.", task.TaskId, e.Message);
                    if (renewed.Elapsed > TimeSpan.FromSeconds(task.LeaseTtlSeconds))
                    {
                        leaseLost();
                        await abort.CancelAsync();
                    }
                }
            }
        }
        catch (OperationCanceledException) { }
    }
}
