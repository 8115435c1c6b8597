using OdooOps.Database;
using OdooOps.Runners.Agent.Backups;
using OdooOps.Runners.Agent.Instances;
using OdooOps.Runners.Agent.Sandbox;
using OdooOps.Runners.Agent.Tasks;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Runners.Agent;

/// <summary>
/// A staging build starts from a fresh copy of production (Odoo.sh's staging): the newest verified production backup,
/// or the production database itself when the project asks for a live copy and it lives on this runner's database
/// server (a backup of it taken now, not stored). The copy becomes the build's own database and filestore; the staging
/// code is then updated on it, and the result neutralised and checked before its server may start.
/// </summary>
internal sealed class StagingRefresh(DispatchClient client, RunnerOptions options, InstanceSupervisor supervisor, SandboxUids uids, Job job,
    Action<string> say)
{
    /// <summary>Replaces the build's (new, empty) database and filestore with the copy; false when there was nothing to copy.</summary>
    public async Task<bool> CopyAsync(OdooDatabaseServer server, StagingCopy source, string database, string dataDir, CancellationToken ct)
    {
        var folder = Directory.CreateDirectory(SafeDeploy.Folder(options, job.BuildId)).FullName;
        File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var file = Path.Combine(folder, "staging-source.zip");
        if (source.LiveInstanceId is { } liveId && source.LiveDatabase is { } live && supervisor.HostedSpec(liveId) is { Stage: "production" } production
            && production.ProjectId == job.ProjectId && production.DatabaseName == live)
        {
            say($"Copying production's live database {live} and its filestore");
            await using var output = new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
            await new BackupWriter(server, PostgresBinaries.LocateClients()).WriteAsync(
                new OdooData(job.ProjectId, true, live, OdooData.FilestoreOf(InstanceLaunch.DataDirOf(options.WorkDir, production), live)),
                job.OdooVersion, output, say, ct);
        }
        else if (source.BackupId is { } backupId)
        {
            say($"Copying production from its backup {backupId}");
            await client.DownloadBackupAsync(backupId, job.LeaseId, file, ct);
        }
        else return false;
        await server.DropDatabaseAsync(database, ct); // made empty for the build: the copy takes its place
        var restorer = new BackupRestorer(server, PostgresBinaries.LocateClients(), options.Sandbox.Enabled ? new SqlSandbox(options.Sandbox, uids, options.WorkDir) : null);
        var filestore = OdooData.FilestoreOf(dataDir, database);
        Directory.CreateDirectory(Path.GetDirectoryName(filestore)!);
        await restorer.RestoreAsync(file, new OdooData(job.ProjectId, false, database, filestore), null, say, ct);
        File.Delete(file);
        return true;
    }
}
