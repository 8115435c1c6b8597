using OdooOps.Runners.Agent.Backups;
using OdooOps.Runners.Agent.Execution;
using OdooOps.Runners.Agent.Tasks;

namespace OdooOps.Runners.Agent;

/// <summary>
/// What a runner killed midway (SIGKILL, the OOM killer, a power cut) left in its work dir and on its database server,
/// cleared at its next start before any build, task or server of its runs:
/// <list type="bullet">
/// <item>a production update interrupted after its pre-deploy backup: that backup goes back first (<see cref="SafeDeploy.RecoverAsync"/>);</item>
/// <item>a task's folder (<c>tasks/&lt;id&gt;</c>): the task's scratch databases (<c>oo-verify-</c>, <c>oo-restore-</c>,
/// <c>oo-replaced-</c> and its id) and restored filestore folders go with it. A restore swaps its database in one
/// transaction, so the live one is whole either way; the task itself is queued again by the server's rescuer;</item>
/// <item>interrupted builds' workspaces, and the sandboxes' scratch folders of restores and neutralisations.</item>
/// </list>
/// Only what this runner's folders name is dropped: several runners may share one database server.
/// </summary>
internal static class RunnerLeftovers
{
    static readonly string[] ScratchPrefixes = ["oo-verify-", "oo-restore-", "oo-replaced-"];

    public static async Task ClearAsync(RunnerOptions options, Sandbox.SandboxUids uids, ILogger log)
    {
        var workDir = Path.GetFullPath(options.WorkDir);
        await SafeDeploy.RecoverAsync(options, uids, log);
        var tasks = Path.Combine(workDir, "tasks");
        foreach (var folder in Directory.Exists(tasks) ? Directory.GetDirectories(tasks) : [])
        {
            if (Guid.TryParse(Path.GetFileName(folder), out var taskId))
            {
                var names = ScratchPrefixes.Select(prefix => LiveRestore.ScratchName(prefix, taskId)).ToList();
                log.LogWarning("Task {TaskId} was interrupted: dropping what it left ({Names}).", taskId, string.Join(", ", names));
                try
                {
                    if (options.Instances.Database is { } server)
                        foreach (var name in names) await server.DropDatabaseAsync(name, CancellationToken.None);
                }
                catch (Npgsql.NpgsqlException e)
                {
                    log.LogError("Task {TaskId}'s scratch databases could not be dropped ({Message}); the next start tries again.", taskId, e.Message);
                    continue;
                }
                foreach (var filestores in Filestores(workDir))
                    try
                    {
                        using var folderOf = SafeFolder.OpenIfExists(filestores);
                        foreach (var name in names) folderOf?.Delete(name);
                    }
                    catch (IOException e) { log.LogWarning("{Folder} was not cleared of task {TaskId}'s folders ({Message}).", filestores, taskId, e.Message); }
            }
            WorkspaceFolder.Delete(folder);
        }
        // A build's workspace is deleted or marked failed when it ends; one neither was interrupted. (Its own development
        // or staging database is left: a retry on another runner sharing the database server may be using that name.)
        var builds = Path.Combine(workDir, "builds");
        foreach (var folder in Directory.Exists(builds) ? Directory.GetDirectories(builds) : [])
            if (Guid.TryParse(Path.GetFileName(folder), out _) && !File.Exists(folder + ".failed"))
                WorkspaceFolder.Delete(folder);
        foreach (var scratch in new[] { "restores", "neutralize" })
            WorkspaceFolder.Delete(Path.Combine(workDir, scratch));
    }

    /// <summary>Every data dir's filestore folder: instances/&lt;branch&gt;/&lt;data or database&gt;/filestore.</summary>
    static IEnumerable<string> Filestores(string workDir)
    {
        var instances = Path.Combine(workDir, "instances");
        if (!Directory.Exists(instances)) yield break;
        foreach (var branch in Directory.GetDirectories(instances))
            foreach (var dataDir in Directory.GetDirectories(branch))
                yield return Path.Combine(dataDir, "filestore");
    }
}
