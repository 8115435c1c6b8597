using System.Diagnostics;
using System.Security.Cryptography;
using OdooOps.Database;
using OdooOps.Runners.Agent.Instances;

namespace OdooOps.Runners.Agent.Backups;

/// <summary>How a restore goes: the filestore checked against the manifest, who owns the files, pg_restore's jobs.</summary>
internal sealed record RestoreOptions
{
    public static readonly RestoreOptions Default = new();

    /// <summary>Refuse a filestore whose files or checksum differ from the manifest's (a verification checks them itself).</summary>
    public bool CheckFilestore { get; init; } = true;

    /// <summary>The uid (and gid) the restored filestore is made for: the instance's sandbox uid. Null: root's.</summary>
    public int? FilestoreOwner { get; init; }

    /// <summary>pg_restore --jobs; null: the machine's cores, up to 4.</summary>
    public int? Jobs { get; init; }

    public RestoreLimits Limits { get; init; } = new();
}

/// <summary>What a restore read and put in place: the manifest, and its own measures of the dump and the filestore.</summary>
internal sealed record RestoredBackup(BackupManifest Manifest, bool PlainSql, long DumpBytes, string DumpSha256,
    int FilestoreFiles, long FilestoreBytes, string FilestoreSha256, long DurationMs);

/// <summary>
/// Restores a backup zip (ours with dump.dump, or Odoo's with dump.sql) into a NEW database, owned by the project's
/// role and made by <see cref="OdooDatabaseServer.CreateDatabaseAsync"/>, and a filestore folder that must not exist
/// yet (or be empty). dump.dump goes through pg_restore as the project's role (--no-owner --no-privileges
/// --exit-on-error, parallel jobs), never before its SHA-256 matched the manifest's; dump.sql through psql in the
/// sandbox (<see cref="SqlSandbox"/>), or not at all on a runner without one. The filestore is extracted at the same
/// time into a sibling folder, by handle (<see cref="SafeFolder"/>), then renamed into place. On any failure, or a
/// cancel, the new database and the extracted files are removed: nothing half-restored is left.
/// </summary>
internal sealed class BackupRestorer(OdooDatabaseServer server, PostgresBinaries postgres, SqlSandbox? sandbox)
{
    public async Task<RestoredBackup> RestoreAsync(string zipPath, OdooData target, RestoreOptions? options, Action<string>? log, CancellationToken ct)
    {
        target.Validate();
        options ??= RestoreOptions.Default;
        var clock = Stopwatch.StartNew();
        await using var archive = await BackupArchive.OpenAsync(zipPath, options.Limits, ct);
        if (archive.PlainSql && sandbox is null)
            throw new BackupException("This backup holds plain SQL (dump.sql), which is only restored in the build sandbox; this runner runs unsandboxed.");
        var budget = new ExtractionBudget(options.Limits.BytesFor(archive.Size));
        var facts = archive.Manifest.Facts;
        var targetName = Path.GetFileName(target.FilestoreFolder.TrimEnd('/'));
        var staging = $".{targetName}.restoring-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
        using var parent = SafeFolder.OpenIfExists(Path.GetDirectoryName(target.FilestoreFolder.TrimEnd('/'))!)
            ?? throw new BackupException($"The folder of {target.FilestoreFolder} does not exist.");
        // Beside the zip (the runner's own folder), closed to all: the dump is the tenant's data.
        var scratch = Directory.CreateDirectory($"{Path.GetFullPath(zipPath)}.restore-{Guid.NewGuid():N}",
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute).FullName;
        var databaseMade = false;
        var stagingMade = false;
        try
        {
            if (parent.OpenFolder(targetName) is { } existing)
                using (existing)
                    if (existing.Entries().Count > 0) throw new BackupException($"{target.FilestoreFolder} exists and is not empty.");

            var dumpFile = Path.Combine(scratch, archive.PlainSql ? BackupArchive.SqlEntry : BackupWriter.DumpEntry);
            var (dumpBytes, dumpSha) = await ExtractDumpAsync(archive, dumpFile, budget, ct);
            if (facts?.DumpSha256 is { } expected && !string.Equals(expected, dumpSha, StringComparison.OrdinalIgnoreCase))
                throw new BackupException($"{archive.Dump.FullName} was altered or damaged: its SHA-256 is {dumpSha}, the manifest says {expected}.")
                {
                    Check = "dump_sha256",
                };
            log?.Invoke($"Dump extracted: {BackupWriter.Size(dumpBytes)}{(facts?.DumpSha256 is null ? "" : ", SHA-256 as in the manifest")}");

            // Not cancelled halfway: a database made but not known as ours would be left behind.
            await server.CreateDatabaseAsync(target.ProjectId, target.Production, target.DatabaseName, CancellationToken.None);
            databaseMade = true;
            ct.ThrowIfCancellationRequested();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var restoring = archive.PlainSql
                ? sandbox!.RunPsqlAsync(postgres, server, target, dumpFile, log, stop.Token)
                : PgRestoreAsync(target, dumpFile, options.Jobs, log, stop.Token);
            var digest = new FilestoreDigest();
            try
            {
                using var folder = parent.CreateFolder(staging, (UnixFileMode)0b111_101_101, options.FilestoreOwner);
                stagingMade = true;
                await ExtractFilestoreAsync(archive, folder, digest, budget, options.FilestoreOwner, ct);
            }
            catch
            {
                await stop.CancelAsync();
                try { await restoring; }
                catch (Exception) { } // the extraction's failure is the one reported
                throw;
            }
            await restoring;
            var sha = digest.Sha256();
            log?.Invoke($"Database restored ({(archive.PlainSql ? "psql, in the sandbox" : "pg_restore")}); filestore: {digest.Files} file(s), {BackupWriter.Size(digest.Bytes)}");
            if (options.CheckFilestore && facts is not null && (digest.Files != facts.FilestoreFiles || sha != facts.FilestoreSha256))
                throw new BackupException(digest.Files != facts.FilestoreFiles
                    ? $"The filestore holds {digest.Files} file(s), the manifest says {facts.FilestoreFiles}: the backup was altered or damaged."
                    : $"The filestore's SHA-256 is {sha}, the manifest says {facts.FilestoreSha256}: the backup was altered or damaged.") { Check = "filestore" };
            parent.Rename(staging, targetName);
            stagingMade = false;
            return new RestoredBackup(archive.Manifest, archive.PlainSql, dumpBytes, dumpSha, digest.Files, digest.Bytes, sha, clock.ElapsedMilliseconds);
        }
        catch (Exception e)
        {
            try
            {
                if (stagingMade) parent.Delete(staging);
                if (databaseMade) await server.DropDatabaseAsync(target.DatabaseName, CancellationToken.None);
            }
            catch (Exception cleanup) when (cleanup is IOException or Npgsql.NpgsqlException)
            {
                log?.Invoke($"What the failed restore made could not all be removed ({cleanup.Message}).");
            }
            // A damaged zip, a file or folder in the way, a database of that name: reasons, in words.
            if (e is IOException or InvalidDataException or InvalidOperationException) throw new BackupException(e.Message, e);
            throw;
        }
        finally
        {
            Execution.WorkspaceFolder.Delete(scratch);
        }
    }

    async Task PgRestoreAsync(OdooData target, string dumpFile, int? jobs, Action<string>? log, CancellationToken ct)
    {
        var n = jobs ?? Math.Clamp(Environment.ProcessorCount, 1, 4);
        await using var restore = PostgresTool.Start(postgres, "pg_restore",
            ["--no-owner", "--no-privileges", "--exit-on-error", $"--jobs={n}", "--dbname", target.DatabaseName, dumpFile],
            server, target.ProjectId, target.Production, log);
        await restore.WaitAsync(ct);
    }

    static async Task<(long Bytes, string Sha256)> ExtractDumpAsync(BackupArchive archive, string file, ExtractionBudget budget, CancellationToken ct)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var output = new FileStream(file, new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            PreallocationSize = Math.Min(archive.Dump.Length, 1L << 40), BufferSize = 0,
        });
        await using var input = await archive.Dump.OpenAsync(ct);
        var buffer = new byte[BackupWriter.ChunkSize];
        long total = 0;
        int read;
        while ((read = await input.ReadAsync(buffer, ct)) > 0)
        {
            budget.Spend(read);
            hash.AppendData(buffer, 0, read);
            await output.WriteAsync(buffer.AsMemory(0, read), ct);
            total += read;
        }
        return (total, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    static async Task ExtractFilestoreAsync(BackupArchive archive, SafeFolder root, FilestoreDigest digest, ExtractionBudget budget,
        int? owner, CancellationToken ct)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[BackupWriter.ChunkSize];
        // The folders of the current file, from the root down; files come in path order, so siblings reuse them.
        var open = new List<(string Name, SafeFolder Folder)>();
        try
        {
            foreach (var (path, entry) in archive.Files)
            {
                ct.ThrowIfCancellationRequested();
                var common = 0;
                while (common < open.Count && common < path.Length - 1 && open[common].Name == path[common]) common++;
                for (var i = open.Count - 1; i >= common; i--)
                {
                    open[i].Folder.Dispose();
                    open.RemoveAt(i);
                }
                for (var i = common; i < path.Length - 1; i++)
                {
                    var above = i == 0 ? root : open[i - 1].Folder;
                    var folder = above.OpenFolder(path[i]) ?? above.CreateFolder(path[i], (UnixFileMode)0b111_101_101, owner);
                    open.Add((path[i], folder));
                }
                var into = path.Length == 1 ? root : open[^1].Folder;
                using var file = into.CreateFile(path[^1], (UnixFileMode)0b110_100_100, owner);
                await using var input = await entry.OpenAsync(ct);
                long offset = 0;
                int read;
                while ((read = await input.ReadAsync(buffer, ct)) > 0)
                {
                    budget.Spend(read);
                    hash.AppendData(buffer, 0, read);
                    await RandomAccess.WriteAsync(file, buffer.AsMemory(0, read), offset, ct);
                    offset += read;
                }
                digest.Add(string.Join('/', path), offset, hash.GetHashAndReset());
            }
        }
        finally
        {
            foreach (var (_, folder) in open) folder.Dispose();
        }
    }

    /// <summary>The bytes a restore may still write (a zip bomb stops here, whatever its headers claim).</summary>
    sealed class ExtractionBudget(long bytes)
    {
        long _spent;

        public void Spend(int count)
        {
            _spent += count;
            if (_spent > bytes) throw new BackupException($"The backup expands to more than {BackupWriter.Size(bytes)}; refused.");
        }
    }
}
