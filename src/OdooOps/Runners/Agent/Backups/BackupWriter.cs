using System.Buffers;
using System.Data;
using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Threading.Channels;
using Npgsql;
using OdooOps.Database;
using OdooOps.Runners.Agent.Instances;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Runners.Agent.Backups;

/// <summary>
/// Writes a branch's backup — one zip of stored entries: <c>dump.dump</c> (pg_dump, custom format), <c>filestore/…</c>,
/// then <c>manifest.json</c> — to any stream, a non-seekable one too (an HTTP request body), without a temporary file.
/// pg_dump and the filestore are read by tasks of their own into 1 MiB buffers, ahead of the writing, so neither
/// waits on the other nor on small writes; the zip is written by one loop. The manifest's module list and table
/// count come from the very snapshot pg_dump dumps (exported by a transaction held open until pg_dump is done).
/// Everything runs as the project's database role; the filestore is read by handle, links never followed
/// (<see cref="SafeFolder"/>): a tenant cannot make its backup carry another's files.
/// </summary>
internal sealed class BackupWriter(OdooDatabaseServer server, PostgresBinaries postgres)
{
    public const string DumpEntry = "dump.dump";
    public const string FilestorePrefix = "filestore/";
    internal const int ChunkSize = 1 << 20;
    const int AheadChunks = 32;
    static readonly ArrayPool<byte> Buffers = ArrayPool<byte>.Create(ChunkSize, 2 * AheadChunks + 4);

    /// <summary>A piece of the zip to come: the start of an entry (<c>Entry</c>), or bytes of the current one.</summary>
    readonly record struct Piece(string? Entry, byte[]? Buffer, int Length);

    public async Task<BackupFacts> WriteAsync(OdooData source, string odooVersion, Stream output, Action<string>? log, CancellationToken ct)
    {
        source.Validate();
        var clock = Stopwatch.StartNew();
        var started = DateTimeOffset.UtcNow;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        await using var snapshotConn = new NpgsqlConnection(server.ProjectConnection(source.ProjectId, source.Production, source.DatabaseName).ConnectionString);
        await snapshotConn.OpenAsync(ct);
        await using var snapshot = await snapshotConn.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        string snapshotId;
        await using (var export = new NpgsqlCommand("select pg_export_snapshot()", snapshotConn, snapshot))
            snapshotId = (string)(await export.ExecuteScalarAsync(ct))!;
        var facts = await DatabaseFacts.ReadAsync(snapshotConn, ct);

        await using var dump = PostgresTool.Start(postgres, "pg_dump",
            ["--format=custom", "--no-owner", "--no-privileges", $"--snapshot={snapshotId}", "--dbname", source.DatabaseName],
            server, source.ProjectId, source.Production, log);
        var dumpPieces = Channel.CreateBounded<Piece>(new BoundedChannelOptions(AheadChunks) { SingleReader = true, SingleWriter = true });
        using var dumpHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long dumpBytes = 0;
        var dumping = Task.Run(() => Guard(dumpPieces.Writer, async () => dumpBytes = await ReadDumpAsync(dump.Output, dumpPieces.Writer, dumpHash, stop.Token)));
        var filePieces = Channel.CreateBounded<Piece>(new BoundedChannelOptions(AheadChunks) { SingleReader = true, SingleWriter = true });
        var digest = new FilestoreDigest();
        var reading = Task.Run(() => Guard(filePieces.Writer, () => ReadFilestoreAsync(source.FilestoreFolder, filePieces.Writer, digest, log, stop.Token)));

        var hashing = new HashingStream(output);
        var filestoreSha256 = "";
        try
        {
            // Small writes (entry headers) gather here; the 1 MiB chunks go straight through.
            await using var buffered = new BufferedStream(hashing, 256 * 1024);
            await using (var zip = await ZipArchive.CreateAsync(buffered, ZipArchiveMode.Create, leaveOpen: true, entryNameEncoding: null, stop.Token))
            {
                await WriteEntriesAsync(zip, DumpEntry, dumpPieces.Reader, started, stop.Token);
                await dumping;
                await dump.WaitAsync(stop.Token);
                await snapshot.RollbackAsync(stop.Token);
                log?.Invoke($"Database dumped: {Size(dumpBytes)} in {clock.Elapsed.TotalSeconds:0.0} s");

                await WriteEntriesAsync(zip, null, filePieces.Reader, started, stop.Token);
                await reading;
                filestoreSha256 = digest.Sha256();
                var manifest = new BackupManifest(source.DatabaseName, odooVersion, facts.PgVersion, facts.Installed(),
                    new ManifestFacts("custom", facts.TableCount, digest.Files, digest.Bytes, filestoreSha256, facts.Modules,
                        dumpBytes, Convert.ToHexStringLower(dumpHash.GetHashAndReset())));
                var entry = zip.CreateEntry(BackupManifest.EntryName, CompressionLevel.NoCompression);
                entry.LastWriteTime = started;
                await using (var stream = await entry.OpenAsync(stop.Token))
                    await stream.WriteAsync(manifest.ToJson(), stop.Token);
            }
            await buffered.FlushAsync(stop.Token);
            log?.Invoke($"Filestore: {digest.Files} file(s), {Size(digest.Bytes)}; backup {Size(hashing.Count)} in {clock.Elapsed.TotalSeconds:0.0} s");
            return new BackupFacts(hashing.Count, hashing.Sha256(), clock.ElapsedMilliseconds, odooVersion, facts.Modules, facts.TableCount,
                digest.Files, digest.Bytes, filestoreSha256);
        }
        catch
        {
            await stop.CancelAsync();
            dump.Kill(); // a read on its pipe may not heed the cancel: its end does
            Exception? cause = null;
            foreach (var task in new[] { dumping, reading })
                try { await task; }
                catch (Exception failure) when (failure is not OperationCanceledException) { cause ??= failure; }
            // The writer saw the channel close; the reason is the reader's (a filestore entry it could not read).
            if (cause is null || ct.IsCancellationRequested) throw;
            if (cause is IOException) throw new BackupException($"The filestore could not be read: {cause.Message}", cause);
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(cause);
            throw;
        }
    }

    /// <summary>Runs a producer; whatever ends it (the end, a failure) completes its channel, so the writer never waits forever.</summary>
    static async Task Guard(ChannelWriter<Piece> pieces, Func<Task> produce)
    {
        try
        {
            await produce();
            pieces.TryComplete();
        }
        catch (Exception e)
        {
            pieces.TryComplete(e);
            throw;
        }
    }

    static async Task<long> ReadDumpAsync(Stream dump, ChannelWriter<Piece> pieces, IncrementalHash hash, CancellationToken ct)
    {
        long total = 0;
        while (true)
        {
            var buffer = Buffers.Rent(ChunkSize);
            var filled = 0;
            int read;
            do
            {
                read = await dump.ReadAsync(buffer.AsMemory(filled, ChunkSize - filled), ct);
                filled += read;
            }
            while (read > 0 && filled < ChunkSize);
            if (filled == 0)
            {
                Buffers.Return(buffer);
                return total;
            }
            hash.AppendData(buffer, 0, filled);
            total += filled;
            await pieces.WriteAsync(new Piece(null, buffer, filled), ct);
            if (read == 0) return total;
        }
    }

    static async Task ReadFilestoreAsync(string folder, ChannelWriter<Piece> pieces, FilestoreDigest digest, Action<string>? log, CancellationToken ct)
    {
        using var root = SafeFolder.OpenIfExists(folder);
        if (root is null)
        {
            log?.Invoke($"No filestore at {folder}: the backup has none.");
            return;
        }
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await ReadFolderAsync(root, "", pieces, digest, hash, log, ct);
    }

    static async Task ReadFolderAsync(SafeFolder folder, string prefix, ChannelWriter<Piece> pieces, FilestoreDigest digest,
        IncrementalHash hash, Action<string>? log, CancellationToken ct)
    {
        foreach (var (name, kind) in folder.Entries().OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            var relative = prefix + name;
            if (!BackupPaths.IsSafeName(name))
            {
                log?.Invoke($"Filestore: {relative} skipped (a name a restore would refuse).");
                continue;
            }
            if (kind == SafeFolder.Kind.Folder && folder.OpenFolder(name) is { } sub)
            {
                using (sub) await ReadFolderAsync(sub, relative + "/", pieces, digest, hash, log, ct);
                continue;
            }
            using var file = kind == SafeFolder.Kind.File ? folder.OpenFile(name) : null;
            if (file is null)
            {
                log?.Invoke($"Filestore: {relative} skipped ({(kind == SafeFolder.Kind.Link ? "a symbolic link" : "not a regular file")}).");
                continue;
            }
            await pieces.WriteAsync(new Piece(FilestorePrefix + relative, null, 0), ct);
            var length = RandomAccess.GetLength(file);
            long offset = 0;
            while (true)
            {
                var buffer = Buffers.Rent((int)Math.Clamp(length - offset, 4096, ChunkSize));
                // A plain pread: this task is the reader's own thread, a hop to the pool per read would only cost.
                var read = RandomAccess.Read(file, buffer.AsSpan(0, Math.Min(buffer.Length, ChunkSize)), offset);
                if (read == 0)
                {
                    Buffers.Return(buffer);
                    break;
                }
                hash.AppendData(buffer, 0, read);
                offset += read;
                await pieces.WriteAsync(new Piece(null, buffer, read), ct);
            }
            digest.Add(relative, offset, hash.GetHashAndReset());
        }
    }

    /// <summary>
    /// Writes pieces until their channel ends: into an entry named <paramref name="entry"/>, or into the entries the
    /// pieces name when it is null.
    /// </summary>
    static async Task WriteEntriesAsync(ZipArchive zip, string? entry, ChannelReader<Piece> pieces, DateTimeOffset time, CancellationToken ct)
    {
        Stream? current = entry is null ? null : await OpenAsync(zip, entry, time, ct);
        try
        {
            await foreach (var piece in pieces.ReadAllAsync(ct))
            {
                if (piece.Entry is { } name)
                {
                    if (current is not null) await current.DisposeAsync();
                    current = null;
                    current = await OpenAsync(zip, name, time, ct);
                    continue;
                }
                await current!.WriteAsync(piece.Buffer.AsMemory(0, piece.Length), ct);
                Buffers.Return(piece.Buffer!);
            }
        }
        finally
        {
            if (current is not null) await current.DisposeAsync();
        }
    }

    static async Task<Stream> OpenAsync(ZipArchive zip, string name, DateTimeOffset time, CancellationToken ct)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.NoCompression);
        entry.LastWriteTime = time;
        return await entry.OpenAsync(ct);
    }

    internal static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.00} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.0} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes} B",
    };
}
