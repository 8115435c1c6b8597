using OdooOps.Database;
using OdooOps.Runners.Agent.Backups;
using OdooOps.Runners.Agent.Instances;

namespace OdooOps.Runners.Agent.Tasks;

/// <summary>
/// Puts a backup in the place of a branch's live database and filestore: one path for a restore task and a failed
/// production update's revert. The backup is restored beside them first, under names of its own (a leftover of an
/// earlier attempt goes first), optionally prepared (neutralised), handed to the instance's owner; only then, with the
/// branch's servers stopped, are the databases swapped in one transaction and the folders renamed. A failure or a kill
/// before the swap leaves the live database and filestore as they were; the swap itself is never cancelled halfway.
/// </summary>
internal static class LiveRestore
{
    public static async Task RunAsync(OdooDatabaseServer server, BackupRestorer restorer, string file, OdooData live, string dataDir, Guid id,
        Func<string, Task>? prepare, Func<Task<IAsyncDisposable>> pause, Action<string> say, CancellationToken ct)
    {
        var restored = ScratchName("oo-restore-", id);
        var previous = ScratchName("oo-replaced-", id);
        var filestores = Directory.CreateDirectory(Path.Combine(dataDir, "filestore")).FullName;
        var restoredStore = Path.Combine(filestores, restored);
        await server.DropDatabaseAsync(restored, ct);
        Execution.WorkspaceFolder.Delete(restoredStore);
        say($"Restoring into a new database beside {live.DatabaseName}");
        await restorer.RestoreAsync(file, live with { DatabaseName = restored, FilestoreFolder = restoredStore }, null, say, ct);
        try
        {
            if (prepare is not null) await prepare(restored);
            await OwnLikeAsync(restoredStore, dataDir, ct);
            await using (await pause())
            {
                await server.ReplaceDatabaseAsync(live.DatabaseName, restored, previous, CancellationToken.None);
                var previousStore = Path.Combine(filestores, previous);
                Execution.WorkspaceFolder.Delete(previousStore);
                if (Directory.Exists(live.FilestoreFolder)) Directory.Move(live.FilestoreFolder, previousStore);
                if (Directory.Exists(restoredStore)) Directory.Move(restoredStore, live.FilestoreFolder);
            }
        }
        catch
        {
            await server.DropDatabaseAsync(restored, CancellationToken.None);
            Execution.WorkspaceFolder.Delete(restoredStore);
            throw;
        }
        await server.DropDatabaseAsync(previous, CancellationToken.None);
        Execution.WorkspaceFolder.Delete(Path.Combine(filestores, previous));
        say($"Database {live.DatabaseName} and its filestore are now the backup's");
    }

    /// <summary>Restored files are root's: they become the instance's, as its data dir is.</summary>
    static async Task OwnLikeAsync(string path, string reference, CancellationToken ct)
    {
        if (!Directory.Exists(path) || !Directory.Exists(reference)) return;
        var chown = await ProcessRunner.RunAsync("chown", ["-R", "--reference=" + reference, "--", path], null, ct);
        if (chown.ExitCode != 0) throw new IOException($"chown of the restored filestore failed: {chown.Output.Trim()}");
    }

    /// <summary>A database name of this run's own (Odoo's rules: letters, digits, '-', at most 63 bytes).</summary>
    internal static string ScratchName(string prefix, Guid id) => prefix + id.ToString("N")[..20];

    /// <summary>For a caller that already stopped the branch's servers.</summary>
    public static Task<IAsyncDisposable> AlreadyPaused() => Task.FromResult<IAsyncDisposable>(new Nothing());

    sealed class Nothing : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
