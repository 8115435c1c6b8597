using OdooOps.Database;
using OdooOps.Runners.Agent.Backups;
using OdooOps.Runners.Agent.Instances;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Runners.Agent.Tasks;

/// <summary>
/// What each kind of task does on the branch's host. A backup reads the branch's live database and filestore; a
/// verification restores a stored backup into a scratch database and folder and checks it against its manifest; a
/// restore builds the restored database and filestore beside the live ones, then swaps them in while the branch's
/// servers are stopped, so a restore that fails or is killed midway leaves the live database as it was.
/// </summary>
internal sealed class TaskWork(DispatchClient client, RunnerOptions options, InstanceSupervisor supervisor, RunnerTask task, string folder, Action<string> say)
{
    OdooDatabaseServer Server => options.Instances.Database
        ?? throw new InvalidOperationException($"this runner has no database server for Odoo ({OdooDatabaseServer.ConnectionKey})");

    bool Production => task.Stage == "production";

    /// <summary>Production's is the branch's; a development or staging one goes with its database.</summary>
    string DataDir => Production || task.DatabaseName is null ? InstanceLaunch.DataDirOf(options.WorkDir, task.BranchId, task.Stage, task.DatabaseName ?? "")
        : task.InstanceId is { } id && supervisor.HostedSpec(id) is { } spec ? InstanceLaunch.DataDirOf(options.WorkDir, spec)
        : InstanceLaunch.DataDirOf(options.WorkDir, task.BranchId, task.Stage, task.DatabaseName);

    BackupRestorer Restorer() => new(Server, PostgresBinaries.LocateClients(),
        options.Sandbox.Enabled ? new SqlSandbox(options.Sandbox, supervisor.Uids, options.WorkDir) : null);

    public async Task<(string Result, string Detail, Verification? Verification)> BackupAsync(CancellationToken ct)
    {
        if (task.DatabaseName is not { } database || task.InstanceId is null)
            return ("failed", "the branch has no instance on this runner: there is nothing to back up", null);
        var facts = await BackupShipping.TakeAndSendAsync(client, Server, new OdooData(task.ProjectId, Production, database, OdooData.FilestoreOf(DataDir, database)),
            task.OdooVersion, task.BackupId, task.LeaseId, Path.Combine(folder, "backup.zip"), say, ct);
        return facts is null ? ("failed", "the backup failed (its log says why)", null) : ("succeeded", BackupShipping.Describe(facts), null);
    }

    public async Task<(string Result, string Detail, Verification? Verification)> VerifyAsync(CancellationToken ct)
    {
        var file = await DownloadAsync(ct);
        var verifier = new BackupVerifier(Restorer(), Server);
        var (scratch, scratchFolder) = (LiveRestore.ScratchName("oo-verify-", task.TaskId), Path.Combine(folder, "scratch"));
        await verifier.DiscardAsync(scratch, scratchFolder); // an earlier attempt's, killed midway
        var verification = await verifier.VerifyAsync(file, task.ProjectId, Production, scratch, scratchFolder, task.BackupSha256, say, ct);
        foreach (var check in verification.Checks) say($"{(check.Passed ? "ok  " : "FAIL")} {check.Name}: {check.Detail}");
        return ("succeeded", verification.Passed ? "verified" : verification.Reason ?? "failed verification", verification);
    }

    public async Task<(string Result, string Detail, Verification? Verification)> RestoreAsync(CancellationToken ct)
    {
        if (task.DatabaseName is not { } live || task.InstanceId is not { } instanceId)
            return ("failed", "the branch has no instance on this runner to restore into", null);
        var file = await DownloadAsync(ct);

        var dataDir = DataDir; // once: the hosted instance may change while the restore runs
        var store = OdooData.FilestoreOf(dataDir, live);
        Func<string, Task>? neutralise = null;
        if (task.Neutralize)
        {
            var release = supervisor.HostedSpec(instanceId) is { } spec ? Releases.Folder(options.WorkDir, spec.BuildId) : null;
            if (release is null || !Directory.Exists(release)) return ("failed", "the branch's release is not on this runner: the copy cannot be neutralised", null);
            neutralise = database => new Neutralisation(options, supervisor.Uids, say).RunAsync(task.ProjectId, database, task.OdooVersion, release,
                task.BaseUrl ?? "http://localhost", ct);
        }
        await LiveRestore.RunAsync(Server, Restorer(), file, new OdooData(task.ProjectId, Production, live, store), dataDir, task.TaskId, neutralise,
            () => supervisor.PauseBranchAsync(task.ProjectId, task.Branch, $"stopped for the restore of backup {task.BackupId}"), say, ct);
        say($"{task.Branch}'s server starts on the restored database");
        return ("succeeded", $"backup {task.BackupId} restored into {task.Branch}", null);
    }

    async Task<string> DownloadAsync(CancellationToken ct)
    {
        var file = Path.Combine(folder, "backup.zip");
        say($"Downloading backup {task.BackupId}");
        await client.DownloadBackupAsync(task.BackupId, task.LeaseId, file, ct);
        return file;
    }
}
