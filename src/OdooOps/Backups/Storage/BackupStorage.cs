using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace OdooOps.Backups.Storage;

/// <summary>
/// Where serve keeps backup zips: a folder (<see cref="FolderBackupStorage"/>) or an S3-compatible bucket
/// (<see cref="S3BackupStorage"/>). Objects are written once from a stream that is read exactly once (a request body),
/// their size and SHA-256 counted on the way; never held in memory whole. Failures of the storage itself surface as
/// <see cref="BackupStorageUnavailableException"/> (503 to callers), a missing object as <see cref="BackupObjectNotFoundException"/>.
/// </summary>
public abstract class BackupStorage
{
    /// <summary>What ops.backups.storage records: "local" or "s3".</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Stores <paramref name="source"/> (read once, front to back) under <paramref name="key"/>, replacing any object
    /// there only once the new one is whole. More than <paramref name="maxBytes"/> throws <see cref="BackupTooLargeException"/>
    /// and stores nothing.
    /// </summary>
    public abstract Task<StoredObject> PutAsync(string key, Stream source, long maxBytes, CancellationToken ct);

    /// <summary>The object, streamed from its start; seekable (the download's zip reader jumps to its directory).</summary>
    public abstract Task<Stream> OpenReadAsync(string key, CancellationToken ct);

    /// <summary>Removes the object; nothing to remove is not an error.</summary>
    public abstract Task DeleteAsync(string key, CancellationToken ct);

    public abstract Task<bool> ExistsAsync(string key, CancellationToken ct);

    /// <summary>How much of a source to read at a time.</summary>
    internal const int ChunkBytes = 1024 * 1024;
}

/// <summary>What was stored: the storage's own count of bytes and SHA-256 (lower-case hex).</summary>
public sealed record StoredObject(long SizeBytes, string Sha256);

/// <summary>A backup's object name: <c>&lt;project id&gt;/&lt;branch id&gt;/&lt;backup id&gt;.zip</c>, nothing else.</summary>
public static partial class BackupKeys
{
    public static string For(Guid projectId, Guid branchId, Guid backupId) => $"{projectId:D}/{branchId:D}/{backupId:D}.zip";

    /// <summary>Keys come from the database; a storage refuses any other shape (no path of another's choosing).</summary>
    public static string Checked(string key) =>
        KeyPattern().IsMatch(key) ? key : throw new ArgumentException($"'{key}' is not a backup key.", nameof(key));

    [GeneratedRegex("^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}\\.zip$")]
    private static partial Regex KeyPattern();
}

/// <summary>Counts and hashes what passes through a put, and stops it past the limit.</summary>
internal sealed class UploadDigest(long maxBytes) : IDisposable
{
    readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public long Bytes { get; private set; }

    public void Add(ReadOnlySpan<byte> data)
    {
        Bytes += data.Length;
        if (Bytes > maxBytes) throw new BackupTooLargeException(maxBytes);
        _sha.AppendData(data);
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or the source ends; what was read is counted and hashed.</summary>
    public async Task<int> FillAsync(Stream source, Memory<byte> buffer, CancellationToken ct)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            var n = await source.ReadAsync(buffer[filled..], ct);
            if (n == 0) break;
            Add(buffer.Span.Slice(filled, n));
            filled += n;
        }
        return filled;
    }

    /// <summary>
    /// Copies <paramref name="source"/> into <paramref name="target"/>, counted and hashed. A failure to write is the
    /// storage's (<paramref name="writeFailed"/> names it); a failure to read is the source's own and stays as it is.
    /// </summary>
    public async Task CopyAsync(Stream source, Stream target, Func<IOException, Exception> writeFailed, CancellationToken ct)
    {
        var buffer = new byte[BackupStorage.ChunkBytes];
        int n;
        while ((n = await source.ReadAsync(buffer, ct)) > 0)
        {
            Add(buffer.AsSpan(0, n));
            try { await target.WriteAsync(buffer.AsMemory(0, n), ct); }
            catch (IOException e) { throw writeFailed(e); }
        }
    }

    public StoredObject Result() => new(Bytes, Convert.ToHexStringLower(_sha.GetHashAndReset()));

    public void Dispose() => _sha.Dispose();
}
