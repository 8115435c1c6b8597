namespace OdooOps.Backups;

/// <summary>A stored backup file: where it is (storage and key) and the name a download gets.</summary>
internal sealed record StoredBackup(Guid BackupId, Guid ProjectId, Guid BranchId, string? Storage, string StorageKey, string FileName);

/// <summary>A short-lived signed link that streams a backup as Odoo's zip; anyone holding it may download until it expires.</summary>
public sealed record DownloadLink(string Url, DateTimeOffset ExpiresAt);

/// <summary>Where an upload goes: the import's backup row and its branch.</summary>
internal sealed record ImportTarget(Guid BackupId, Guid ProjectId, Guid BranchId);

/// <summary>An imported zip once stored: where, its size and SHA-256, and the Odoo version its manifest names.</summary>
internal sealed record ImportedFile(string Storage, string StorageKey, long SizeBytes, string Sha256, string? OdooVersion);

/// <summary>The storage could not be reached or is not set up: the answer is 503 with Retry-After, never a 500.</summary>
internal sealed class BackupStorageUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// What the people's side needs of the stored backup files, and nothing else: deleting a pruned backup's file (the
/// retention job), a signed download link, storing an uploaded zip (import). The storage itself (a folder or an S3
/// bucket, the links, the import's conversion) lives in Backups/Storage; the host hands its operations in here, so
/// these use cases never touch files or buckets themselves. An upload that is not a backup zip throws
/// <see cref="InvalidDataException"/> (the answer names the field <c>file</c>); an unreachable storage
/// <see cref="BackupStorageUnavailableException"/> (503).
/// </summary>
internal sealed class BackupFiles(
    Func<StoredBackup, CancellationToken, Task> delete,
    Func<StoredBackup, HttpRequest, DownloadLink> link,
    Func<ImportTarget, Stream, CancellationToken, Task<ImportedFile>> import)
{
    public Task DeleteAsync(StoredBackup file, CancellationToken ct) => delete(file, ct);

    public DownloadLink Link(StoredBackup file, HttpRequest request) => link(file, request);

    public Task<ImportedFile> ImportAsync(ImportTarget target, Stream zip, CancellationToken ct) => import(target, zip, ct);

    /// <summary>Until the host wires the storage in: every file operation is refused as unavailable, loudly.</summary>
    public static readonly BackupFiles NotWired = new(
        (_, _) => throw Unwired(), (_, _) => throw Unwired(), (_, _, _) => throw Unwired());

    static BackupStorageUnavailableException Unwired() => new("The backup storage is not set up on this server.");
}
