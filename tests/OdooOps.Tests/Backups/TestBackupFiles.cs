using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using OdooOps.Backups;

namespace OdooOps.Tests.Backups;

/// <summary>
/// The backup storage's operations as the people's side sees them (<see cref="BackupFiles"/>), for test servers: files
/// live in memory by key; a delete removes one (or fails for the keys in <see cref="FailDeletes"/>), a link points at
/// <see cref="LinkBase"/> (a test's file host, else the server itself), an import takes a stream that starts as a zip
/// does and refuses anything else. Every test server gets <see cref="Default"/> (TestHosts); a test may register its own.
/// </summary>
internal sealed class TestBackupFiles
{
    public static readonly TestBackupFiles Default = new();

    public ConcurrentDictionary<string, byte[]> Stored { get; } = new();
    public ConcurrentQueue<string> Deleted { get; } = new();
    public ConcurrentDictionary<string, string> FailDeletes { get; } = new();
    public ConcurrentQueue<(Guid BackupId, string FileName)> Links { get; } = new();
    public string? LinkBase { get; set; }

    public BackupFiles Hooks => new(DeleteAsync, Link, ImportAsync);

    Task DeleteAsync(StoredBackup file, CancellationToken ct)
    {
        if (FailDeletes.TryGetValue(file.StorageKey, out var reason)) throw new IOException(reason);
        Stored.TryRemove(file.StorageKey, out _);
        Deleted.Enqueue(file.StorageKey);
        return Task.CompletedTask;
    }

    DownloadLink Link(StoredBackup file, HttpRequest request)
    {
        Links.Enqueue((file.BackupId, file.FileName));
        var root = LinkBase ?? $"{request.Scheme}://{request.Host}";
        return new($"{root}/files/{Uri.EscapeDataString(file.StorageKey)}?signature=test", DateTimeOffset.UtcNow.AddMinutes(10));
    }

    async Task<ImportedFile> ImportAsync(ImportTarget target, Stream zip, CancellationToken ct)
    {
        using var copy = new MemoryStream();
        await zip.CopyToAsync(copy, ct);
        var bytes = copy.ToArray();
        if (bytes.Length < 4 || bytes[0] != 'P' || bytes[1] != 'K') throw new InvalidDataException("it does not start as a zip file does");
        var key = $"{target.ProjectId}/{target.BackupId}.zip";
        Stored[key] = bytes;
        return new ImportedFile("local", key, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes)), "18.0");
    }
}
