using System.Buffers.Binary;
using System.IO.Compression;

namespace OdooOps.Runners.Agent.Backups;

/// <summary>
/// A backup zip opened for restoring, checked before anything is extracted: ours (<c>dump.dump</c>) or Odoo's
/// (<c>dump.sql</c>), a manifest, filestore entries under <c>filestore/</c> with safe relative paths only. Refused:
/// zip-slip and absolute paths, symbolic links, encrypted or duplicate entries, more entries than
/// <see cref="RestoreLimits.MaxEntries"/>. Other entries are ignored (never extracted).
/// </summary>
internal sealed class BackupArchive : IAsyncDisposable
{
    public const string SqlEntry = "dump.sql";
    const int MaxManifestBytes = 64 << 20;

    readonly ZipArchive _zip;

    BackupArchive(ZipArchive zip, ZipArchiveEntry dump, BackupManifest manifest, IReadOnlyList<(string[] Path, ZipArchiveEntry Entry)> files, long size)
        => (_zip, Dump, Manifest, Files, Size) = (zip, dump, manifest, files, size);

    /// <summary><c>dump.dump</c> (custom format, pg_restore) or <c>dump.sql</c> (plain SQL, psql in the sandbox).</summary>
    public ZipArchiveEntry Dump { get; }
    public bool PlainSql => Dump.FullName == SqlEntry;
    public BackupManifest Manifest { get; }

    /// <summary>The filestore's files, each with its path segments below filestore/, in path order.</summary>
    public IReadOnlyList<(string[] Path, ZipArchiveEntry Entry)> Files { get; }

    /// <summary>The zip file's own size (what extraction is bounded by, with <see cref="RestoreLimits.MaxExpansion"/>).</summary>
    public long Size { get; }

    public static async Task<BackupArchive> OpenAsync(string path, RestoreLimits limits, CancellationToken ct)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: false);
        ZipArchive zip;
        try
        {
            // Before .NET loads the whole central directory into memory: a crafted one could hold tens of millions.
            if (DeclaredEntries(file) > limits.MaxEntries)
                throw new BackupException($"The backup declares more than {limits.MaxEntries} entries; refused.");
            zip = await ZipArchive.CreateAsync(file, ZipArchiveMode.Read, leaveOpen: false, entryNameEncoding: null, ct);
        }
        catch (Exception e)
        {
            await file.DisposeAsync();
            if (e is InvalidDataException or EndOfStreamException) throw new BackupException($"The backup is not a readable zip: {e.Message}");
            throw;
        }
        try
        {
            var size = file.Length;
            if (zip.Entries.Count > limits.MaxEntries)
                throw new BackupException($"The backup holds {zip.Entries.Count} entries; at most {limits.MaxEntries} are accepted.");
            ZipArchiveEntry? dump = null, manifest = null;
            var files = new List<(string Key, string[] Path, ZipArchiveEntry Entry)>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var entry in zip.Entries)
            {
                var name = entry.FullName;
                var directory = name.EndsWith('/');
                var segments = BackupPaths.Segments(directory ? name[..^1] : name)
                    ?? throw new BackupException($"The backup holds an unsafe path, refused: '{Shown(name)}'.");
                if (!seen.Add(string.Join('/', segments))) throw new BackupException($"The backup holds '{Shown(name)}' twice.");
                // Unix mode in the high half of the external attributes: S_IFLNK is a symbolic link.
                if (((entry.ExternalAttributes >> 16) & 0xF000) == 0xA000)
                    throw new BackupException($"The backup holds a symbolic link, refused: '{Shown(name)}'.");
                if (entry.IsEncrypted) throw new BackupException($"The backup holds an encrypted entry: '{Shown(name)}'.");
                if (directory) continue;
                if (segments is ["filestore", _, ..]) files.Add((name, segments[1..], entry));
                else if (name is BackupWriter.DumpEntry or SqlEntry)
                    dump = dump is null ? entry : throw new BackupException("The backup holds both dump.dump and dump.sql.");
                else if (name == BackupManifest.EntryName) manifest = entry;
            }
            if (dump is null) throw new BackupException("The backup holds no database dump (dump.dump or dump.sql).");
            if (manifest is null) throw new BackupException("The backup holds no manifest.json.");
            if (manifest.Length > MaxManifestBytes) throw new BackupException("manifest.json is too large.");
            using var json = new MemoryStream();
            await using (var stream = await manifest.OpenAsync(ct))
                await CopyBoundedAsync(stream, json, MaxManifestBytes, "manifest.json", ct);
            files.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
            return new BackupArchive(zip, dump, BackupManifest.Parse(json.GetBuffer().AsMemory(0, (int)json.Length)),
                [.. files.Select(f => (f.Path, f.Entry))], size);
        }
        catch
        {
            await zip.DisposeAsync();
            throw;
        }
    }

    /// <summary>The entry count the zip's end record declares (the ZIP64 one when there is one); 0 when there is none.</summary>
    static long DeclaredEntries(FileStream file)
    {
        const uint End = 0x06054b50, Locator = 0x07064b50, End64 = 0x06064b50;
        var tail = new byte[(int)Math.Min(file.Length, 22 + ushort.MaxValue)];
        file.Seek(file.Length - tail.Length, SeekOrigin.Begin);
        file.ReadExactly(tail);
        try
        {
            for (var i = tail.Length - 22; i >= 0; i--)
            {
                if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(i)) != End) continue;
                long entries = BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(i + 10));
                if (entries != ushort.MaxValue) return entries;
                // ZIP64: the locator just before the end record gives where the ZIP64 end record is, with the real count.
                if (i < 20 || BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(i - 20)) != Locator) return entries;
                var at = BinaryPrimitives.ReadInt64LittleEndian(tail.AsSpan(i - 20 + 8));
                if (at < 0 || at > file.Length - 56) return long.MaxValue;
                var record = new byte[56];
                file.Seek(at, SeekOrigin.Begin);
                file.ReadExactly(record);
                return BinaryPrimitives.ReadUInt32LittleEndian(record) == End64 ? BinaryPrimitives.ReadInt64LittleEndian(record.AsSpan(32)) : long.MaxValue;
            }
            return 0;
        }
        finally
        {
            file.Seek(0, SeekOrigin.Begin);
        }
    }

    static string Shown(string name) => name.Length > 200 ? name[..200] + "…" : new string([.. name.Select(c => char.IsControl(c) ? '?' : c)]);

    static async Task CopyBoundedAsync(Stream from, Stream to, long max, string what, CancellationToken ct)
    {
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = await from.ReadAsync(buffer, ct)) > 0)
        {
            total += read;
            if (total > max) throw new BackupException($"{what} is larger than it says.");
            await to.WriteAsync(buffer.AsMemory(0, read), ct);
        }
    }

    public ValueTask DisposeAsync() => _zip.DisposeAsync();
}

/// <summary>
/// Bounds on what a restore extracts: entries, and bytes written in all — never more than the zip's size times
/// <see cref="MaxExpansion"/> (a stored zip is about 1×, Odoo's deflated SQL rarely above 10×), nor <see cref="MaxBytes"/>.
/// </summary>
internal sealed record RestoreLimits
{
    public int MaxEntries { get; init; } = 2_000_000;
    public long MaxBytes { get; init; } = 4L << 40;
    public int MaxExpansion { get; init; } = 50;

    public long BytesFor(long zipSize) => Math.Min(MaxBytes, zipSize > long.MaxValue / MaxExpansion ? long.MaxValue : zipSize * MaxExpansion);
}
