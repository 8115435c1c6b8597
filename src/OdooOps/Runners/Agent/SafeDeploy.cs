using System.Text.Json;
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
        // From here on a runner killed during the update finds what to put back at its next start (RecoverAsync).
        var journal = Path.Combine(folder, JournalName);
        await File.WriteAllTextAsync(journal + ".new", JsonSerializer.Serialize(new RevertJournal(job.ProjectId, database,
            InstanceLaunch.DataDirOf(options.WorkDir, previous), _backupId, previous.BuildId)), CancellationToken.None);
        File.Move(journal + ".new", journal); // whole or absent
        return true;
    }

    /// <summary>Puts the pre-deploy backup back (never cancelled halfway); what the build reports, or null when it could not.</summary>
    public async Task<BuildRevert?> RevertAsync(OdooDatabaseServer server, Sandbox.SandboxUids uids, string database)
    {
        if (_file is null) return null;
        say($"The update failed: restoring pre-deploy backup {_backupId} and starting build {previous.BuildId}'s release again");
        try
        {
            await PutBackAsync(server, options, uids, _file, Live(database), InstanceLaunch.DataDirOf(options.WorkDir, previous), job.BuildId, say);
            return new BuildRevert(previous.BuildId, _backupId);
        }
        catch (Exception e) when (e is IOException or BackupException or InvalidOperationException or Npgsql.NpgsqlException)
        {
            say($"The revert failed: {e.Message}. The database is as the failed update left it; restore backup {_backupId} by hand.");
            return null;
        }
    }

    /// <summary>
    /// The update succeeded: a kill from here on must not put the backup back. Before the release is reported, so a kill
    /// between the two leaves the build to be re-queued (and its update run again), never a recorded release on the old
    /// database.
    /// </summary>
    public void Settle() => File.Delete(Path.Combine(Folder(options, job.BuildId), JournalName));

    /// <summary>The build's folder of pre-deploy files, gone when the build ends.</summary>
    public static void CleanUp(RunnerOptions options, Guid buildId) => Execution.WorkspaceFolder.Delete(Folder(options, buildId));

    const string JournalName = "revert.json";

    /// <summary>What a revert needs, beside the pre-deploy backup once it is taken.</summary>
    sealed record RevertJournal(Guid ProjectId, string Database, string DataDir, Guid BackupId, Guid PreviousBuildId);

    static Task PutBackAsync(OdooDatabaseServer server, RunnerOptions options, Sandbox.SandboxUids uids, string file, OdooData live, string dataDir,
        Guid buildId, Action<string> say)
    {
        var restorer = new BackupRestorer(server, PostgresBinaries.LocateClients(),
            options.Sandbox.Enabled ? new SqlSandbox(options.Sandbox, uids, options.WorkDir) : null);
        return LiveRestore.RunAsync(server, restorer, file, live, dataDir, buildId, null, LiveRestore.AlreadyPaused, say, CancellationToken.None);
    }

    /// <summary>
    /// At a runner's start, before any server of its starts: a production update the runner was killed in the middle of
    /// (its journal beside its pre-deploy backup) may have left the database half-updated, so that backup goes back first
    /// and the previous release starts on the database as it was. The build itself is the rescuer's: re-queued after its
    /// lease, it runs again from that state. A folder without a journal (killed before or while the backup was taken)
    /// changed nothing and just goes. One that cannot be put back stays, for the next start and for the operator.
    /// </summary>
    public static async Task RecoverAsync(RunnerOptions options, Sandbox.SandboxUids uids, ILogger log)
    {
        var deploys = Path.Combine(Path.GetFullPath(options.WorkDir), "deploys");
        if (!Directory.Exists(deploys)) return;
        foreach (var folder in Directory.GetDirectories(deploys))
        {
            if (!Guid.TryParse(Path.GetFileName(folder), out var buildId)) continue;
            var journal = Path.Combine(folder, JournalName);
            var file = Path.Combine(folder, "pre-deploy.zip");
            if (File.Exists(journal) && File.Exists(file) && options.Instances.Database is { } server)
            {
                try
                {
                    var undo = JsonSerializer.Deserialize<RevertJournal>(await File.ReadAllTextAsync(journal))
                        ?? throw new InvalidOperationException($"{journal} is empty");
                    log.LogWarning("Build {BuildId}'s production update was interrupted: restoring its pre-deploy backup {BackupId} into {Database} " +
                        "before build {Previous}'s release starts again.", buildId, undo.BackupId, undo.Database, undo.PreviousBuildId);
                    await PutBackAsync(server, options, uids, file,
                        new OdooData(undo.ProjectId, true, undo.Database, OdooData.FilestoreOf(undo.DataDir, undo.Database)), undo.DataDir, buildId,
                        text => log.LogInformation("Build {BuildId} revert: {Line}", buildId, text));
                }
                catch (Exception e) when (e is IOException or BackupException or InvalidOperationException or Npgsql.NpgsqlException or JsonException)
                {
                    log.LogError(e, "Build {BuildId}'s pre-deploy backup could not be put back; it stays in {Folder}.", buildId, folder);
                    continue;
                }
            }
            Execution.WorkspaceFolder.Delete(folder);
        }
    }
}
