using OdooOps.Database;
using OdooOps.Runners.Agent.Backups;
using OdooOps.Runners.Agent.Instances;

namespace OdooOps.Runners.Agent.Tasks;

/// <summary>
/// Puts a backup in the place of a branch's live database and filestore: one path for a restore task and a failed
/// production update's revert. The backup is restored beside them first, under names of its own (a leftover of an
/// earlier attempt goes first), optionally prepared (neutralised), made the instance's; only then, with the branch's
/// servers stopped, are the databases swapped in one transaction and the folders renamed. A failure or a kill before the
/// swap leaves the live database and filestore as they were; the swap itself is never cancelled halfway. The filestore
/// folder belongs to the tenant's uid, whose server may be running: every delete and rename in it goes through one
/// handle of the folder (<see cref="SafeFolder"/>), never following a link the tenant planted.
/// </summary>
internal static class LiveRestore
{
    public static async Task RunAsync(OdooDatabaseServer server, BackupRestorer restorer, string file, OdooData live, string dataDir, Guid id,
        Func<string, Task>? prepare, Func<Task<IAsyncDisposable>> pause, Action<string> say, CancellationToken ct)
    {
        var restored = ScratchName("oo-restore-", id);
        var previous = ScratchName("oo-replaced-", id);
        var liveName = Path.GetFileName(live.FilestoreFolder);
        var filestoresPath = Directory.CreateDirectory(Path.Combine(dataDir, "filestore")).FullName;
        using var filestores = SafeFolder.OpenIfExists(filestoresPath) ?? throw new IOException($"{filestoresPath} is gone.");
        await server.DropDatabaseAsync(restored, ct);
        filestores.Delete(restored);
        say($"Restoring into a new database beside {live.DatabaseName}");
        var owner = await OwnerAsync(dataDir, ct);
        await restorer.RestoreAsync(file, live with { DatabaseName = restored, FilestoreFolder = Path.Combine(filestoresPath, restored) },
            new RestoreOptions { FilestoreOwner = owner }, say, ct);
        var swapped = false;
        try
        {
            if (prepare is not null) await prepare(restored);
            await Failpoints.HoldAsync(Failpoints.RestoreBuilt, say, ct);
            await using (await pause())
            {
                await server.ReplaceDatabaseAsync(live.DatabaseName, restored, previous, CancellationToken.None);
                swapped = true;
                filestores.Delete(previous);
                if (filestores.OpenFolder(liveName) is { } current)
                {
                    current.Dispose();
                    filestores.Rename(liveName, previous);
                }
                if (filestores.OpenFolder(restored) is { } fresh)
                {
                    fresh.Dispose();
                    filestores.Rename(restored, liveName);
                }
                filestores.Delete(previous); // before the servers start again: nothing of the tenant's runs while it goes
            }
        }
        catch when (!swapped)
        {
            await server.DropDatabaseAsync(restored, CancellationToken.None);
            filestores.Delete(restored);
            throw;
        }
        await server.DropDatabaseAsync(previous, CancellationToken.None);
        say($"Database {live.DatabaseName} and its filestore are now the backup's");
    }

    /// <summary>The uid the restored files are made for: the data dir's owner (the instance's sandbox uid); null: root's.</summary>
    static async Task<int?> OwnerAsync(string dataDir, CancellationToken ct)
    {
        var stat = await ProcessRunner.RunAsync("stat", ["-c", "%u", "--", dataDir], null, ct);
        return stat.ExitCode == 0 && int.TryParse(stat.Output.Trim(), out var uid) && uid != 0 ? uid : null;
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
