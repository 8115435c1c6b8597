using OdooOps.Database;
using OdooOps.Runners.Agent.Backups;
using OdooOps.Runners.Agent.Instances;
using OdooOps.Runners.Agent.Pipeline;
using OdooOps.Runners.Agent.Tasks;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Runners.Agent;

/// <summary>
/// A production update that changes a module's version or requirements.txt (Odoo.sh's rule) is made safe: the live
/// database and filestore are backed up first (a <c>pre-deploy</c> backup, stored and verified like any other), and if
/// the update fails — a failed step, ERROR or CRITICAL lines, a timeout, a cancel — that backup is put back and the
/// release that was running starts again: the build fails "reverted to" that release. The backup's file stays in the
/// build's own folder until the build ends, so the revert never waits on the server.
/// </summary>
internal sealed class SafeDeploy(DispatchClient client, RunnerOptions options, Job job, InstanceSpec previous, Action<string> say)
{
    Guid _backupId;
    string? _file;

    /// <summary>The build's own folder of backup files (a pre-deploy backup, a staging copy's source), gone when the build ends.</summary>
    internal static string Folder(RunnerOptions options, Guid buildId) => Path.Combine(Path.GetFullPath(options.WorkDir), "deploys", buildId.ToString("D"));

    OdooData Live(string database) =>
        new(job.ProjectId, true, database, OdooData.FilestoreOf(InstanceLaunch.DataDirOf(options.WorkDir, previous), database));

    /// <summary>The pre-deploy backup, with the production server already stopped; false when it could not be taken.</summary>
    public async Task<bool> BackupAsync(OdooDatabaseServer server, string database, CancellationToken ct)
    {
        var folder = Directory.CreateDirectory(Folder(options, job.BuildId)).FullName;
        File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _backupId = await client.JobBackupAsync(job, "pre-deploy", ct);
        var file = Path.Combine(folder, "pre-deploy.zip");
        say($"This update changes modules or requirements.txt: pre-deploy backup {_backupId} first");
        var facts = await BackupShipping.TakeAndSendAsync(client, server, Live(database), job.OdooVersion, _backupId, job.LeaseId, file, say, ct);
        if (facts is null) return false;
        _file = file;
        return true;
    }

    /// <summary>Puts the pre-deploy backup back (never cancelled halfway); what the build reports, or null when it could not.</summary>
    public async Task<BuildRevert?> RevertAsync(OdooDatabaseServer server, Sandbox.SandboxUids uids, string database)
    {
        if (_file is null) return null;
        say($"The update failed: restoring pre-deploy backup {_backupId} and starting build {previous.BuildId}'s release again");
        try
        {
            var restorer = new BackupRestorer(server, PostgresBinaries.LocateClients(),
                options.Sandbox.Enabled ? new SqlSandbox(options.Sandbox, uids, options.WorkDir) : null);
            await LiveRestore.RunAsync(server, restorer, _file, Live(database), InstanceLaunch.DataDirOf(options.WorkDir, previous), job.BuildId,
                null, LiveRestore.AlreadyPaused, say, CancellationToken.None);
            return new BuildRevert(previous.BuildId, _backupId);
        }
        catch (Exception e) when (e is IOException or BackupException or InvalidOperationException or Npgsql.NpgsqlException)
        {
            say($"The revert failed: {e.Message}. The database is as the failed update left it; restore backup {_backupId} by hand.");
            return null;
        }
    }

    /// <summary>The build's folder of pre-deploy files, gone when the build ends.</summary>
    public static void CleanUp(RunnerOptions options, Guid buildId) => Execution.WorkspaceFolder.Delete(Folder(options, buildId));
}
