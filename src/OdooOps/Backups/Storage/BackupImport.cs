using System.IO.Compression;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace OdooOps.Backups.Storage;

/// <summary>
/// The storage side of importing a person's backup zip (the API, the backup row and the audit are the people's side):
/// the upload is spooled to a 0600 file in &lt;data dir&gt;/tmp (a zip's directory is at its end, and a zip is checked
/// before anything is kept), counted and hashed on the way and cut at OPS_BACKUP_MAX_GB; checked by
/// <see cref="BackupZipRules"/>; then stored as it is under the new backup's key. A plain dump.sql stays untrusted:
/// only the runner restores it, in the build sandbox. The spool file is gone when this returns, whatever happened.
/// </summary>
internal sealed class BackupImport(BackupStores stores)
{
    const UnixFileMode OwnerOnlyDir = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>What was stored and what the zip says it holds (the manifest as sent: facts to show, not to trust).</summary>
    public sealed record Imported(string Storage, string StorageKey, long SizeBytes, string Sha256, string DumpFormat, string? OdooVersion,
        string? DatabaseName, IReadOnlyDictionary<string, string> Modules, int FilestoreFiles, long FilestoreBytes, JsonElement Manifest);

    /// <summary>Lets this request's body be as large as a backup may be (Kestrel's own limit is far lower), plus
    /// <paramref name="formBytes"/> for a form around it; 413 at once when it says it is larger.</summary>
    public void AcceptLargeBody(HttpContext http, long formBytes = 0)
    {
        var max = stores.Settings.MaxBytes + formBytes;
        if (http.Request.ContentLength > max) throw new BackupTooLargeException(stores.Settings.MaxBytes);
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = max;
    }

    /// <summary>The largest zip an import takes (OPS_BACKUP_MAX_GB), for the console to say.</summary>
    public long MaxBytes => stores.Settings.MaxBytes;

    /// <exception cref="BackupZipRejectedException">Not a zip, or not a backup zip (the message says why).</exception>
    /// <exception cref="BackupTooLargeException">Past OPS_BACKUP_MAX_GB.</exception>
    public async Task<Imported> ImportAsync(Stream upload, Guid projectId, Guid branchId, Guid backupId, CancellationToken ct)
    {
        var settings = stores.Settings;
        var spool = Path.Combine(settings.TempDir, $"import-{Guid.NewGuid():N}.zip");
        try
        {
            try { Directory.CreateDirectory(settings.TempDir, OwnerOnlyDir); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new BackupStorageUnavailableException($"The folder {settings.TempDir} for uploads cannot be made: {e.Message}", e);
            }
            await SpoolAsync(upload, spool, settings.MaxBytes, ct);

            BackupZipContents contents;
            await using (var file = File.OpenRead(spool))
            {
                ZipArchive zip;
                try { zip = await ZipArchive.CreateAsync(file, ZipArchiveMode.Read, leaveOpen: true, entryNameEncoding: null, ct); }
                catch (InvalidDataException) { throw new BackupZipRejectedException("The file is not a zip."); }
                await using (zip) contents = await BackupZipRules.CheckAsync(zip, ct);
            }

            var storage = stores.Current;
            var key = BackupKeys.For(projectId, branchId, backupId);
            StoredObject stored;
            await using (var file = File.OpenRead(spool))
                stored = await storage.PutAsync(key, file, settings.MaxBytes, ct);
            var manifest = contents.ManifestJson;
            return new Imported(storage.Name, key, stored.SizeBytes, stored.Sha256, contents.DumpFormat, Text(manifest, "version"),
                Text(manifest, "db_name"), Modules(manifest), contents.FilestoreFiles, contents.FilestoreBytes, manifest);
        }
        finally
        {
            try { File.Delete(spool); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    static async Task SpoolAsync(Stream upload, string path, long maxBytes, CancellationToken ct)
    {
        FileStream file;
        try
        {
            file = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, Options = FileOptions.Asynchronous,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BackupStorageUnavailableException($"The upload cannot be written to {path}: {e.Message}", e);
        }
        await using (file)
        {
            using var digest = new UploadDigest(maxBytes);
            await digest.CopyAsync(upload, file, e => new BackupStorageUnavailableException($"The upload cannot be written to {path}: {e.Message}", e), ct);
        }
    }

    static string? Text(JsonElement json, string name) =>
        json.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: <= 200 } s && !s.Contains('\0') ? s : null;

    /// <summary>Odoo's manifest: <c>"modules": {"name": "installed version"}</c>; anything else in it is left out.</summary>
    static Dictionary<string, string> Modules(JsonElement json)
    {
        var modules = new Dictionary<string, string>(StringComparer.Ordinal);
        if (json.TryGetProperty("modules", out var m) && m.ValueKind == JsonValueKind.Object)
            foreach (var p in m.EnumerateObject())
                if (p.Value.ValueKind == JsonValueKind.String && modules.Count < 10_000 && Text(m, p.Name) is { } version && p.Name.Length <= 200 && !p.Name.Contains('\0'))
                    modules[p.Name] = version;
        return modules;
    }
}
