using System.IO.Compression;
using System.Text.Json;

namespace OdooOps.Backups.Storage;

/// <summary>
/// What a backup zip may hold, ours (<c>dump.dump</c>) or Odoo's (<c>dump.sql</c>): exactly one dump, a
/// <c>manifest.json</c> (a JSON object, at most 1 MiB), and files under <c>filestore/</c> — nothing else. Every name
/// is a plain relative path (no <c>..</c>, no leading <c>/</c>, no backslash, drive letter, control character or empty
/// segment), no name twice, no symbolic link: whoever extracts it stays inside the folder it extracts into.
/// </summary>
internal static class BackupZipRules
{
    public const string DumpSql = "dump.sql";
    public const string DumpCustom = "dump.dump";
    public const string Manifest = "manifest.json";
    public const string Filestore = "filestore/";
    const int MaxManifestBytes = 1024 * 1024;
    const int MaxNameLength = 1024;
    const int MaxEntries = 5_000_000;

    /// <summary>The zip's dump entry, manifest and filestore totals; <see cref="BackupZipRejectedException"/> naming the first problem otherwise.</summary>
    public static async Task<BackupZipContents> CheckAsync(ZipArchive zip, CancellationToken ct)
    {
        if (zip.Entries.Count > MaxEntries) throw new BackupZipRejectedException($"The zip holds more than {MaxEntries} entries.");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        ZipArchiveEntry? dump = null, manifest = null;
        var files = 0;
        long bytes = 0;
        foreach (var entry in zip.Entries)
        {
            var name = entry.FullName;
            if (NameProblem(name) is { } problem) throw new BackupZipRejectedException($"The zip entry '{Shown(name)}' {problem}.");
            if (!seen.Add(name)) throw new BackupZipRejectedException($"The zip holds '{Shown(name)}' twice.");
            // Unix mode in the high half of the external attributes: a symbolic link would point an extraction elsewhere.
            if (((entry.ExternalAttributes >> 16) & 0xF000) == 0xA000) throw new BackupZipRejectedException($"The zip entry '{Shown(name)}' is a symbolic link.");
            if (name is DumpSql or DumpCustom)
            {
                if (dump is not null) throw new BackupZipRejectedException($"The zip holds both {DumpSql} and {DumpCustom}; a backup has one dump.");
                dump = entry;
            }
            else if (name == Manifest) manifest = entry;
            else if (name.StartsWith(Filestore, StringComparison.Ordinal))
            {
                if (!name.EndsWith('/')) { files++; bytes += entry.Length; }
            }
            else throw new BackupZipRejectedException($"The zip entry '{Shown(name)}' is not part of a backup (only {DumpSql} or {DumpCustom}, {Manifest} and {Filestore}…).");
        }
        if (dump is null) throw new BackupZipRejectedException($"The zip holds no database dump ({DumpSql} or {DumpCustom}).");
        if (manifest is null) throw new BackupZipRejectedException($"The zip holds no {Manifest}.");
        if (manifest.Length > MaxManifestBytes) throw new BackupZipRejectedException($"{Manifest} is larger than 1 MiB.");
        JsonElement json;
        try
        {
            await using var stream = await manifest.OpenAsync(ct);
            using var document = await JsonDocument.ParseAsync(stream, default, ct);
            json = document.RootElement.Clone();
        }
        catch (JsonException) { throw new BackupZipRejectedException($"{Manifest} is not JSON."); }
        if (json.ValueKind != JsonValueKind.Object) throw new BackupZipRejectedException($"{Manifest} is not a JSON object.");
        return new BackupZipContents(dump, manifest, json, files, bytes);
    }

    /// <summary>Why a name is refused (completes "The zip entry '…' …"), or null.</summary>
    public static string? NameProblem(string name)
    {
        if (name.Length is 0 or > MaxNameLength) return "has no name or a name longer than 1024 characters";
        if (name.Any(c => char.IsControl(c) || c is '\\' or ':')) return "has a control character, a backslash or a colon in its name";
        if (name.StartsWith('/')) return "is an absolute path";
        var segments = name.EndsWith('/') ? name[..^1].Split('/') : name.Split('/');
        if (segments.Any(s => s is "" or "." or "..")) return "has an empty, '.' or '..' path segment";
        if (name.EndsWith('/') && !name.StartsWith(Filestore, StringComparison.Ordinal) && name != Filestore) return "is a folder outside filestore/";
        return null;
    }

    static string Shown(string name) => new([.. name.Take(200).Select(c => char.IsControl(c) ? '?' : c)]);
}

/// <summary>What a valid backup zip holds: its dump entry (<c>dump.sql</c> or <c>dump.dump</c>), its manifest, its filestore's size.</summary>
internal sealed record BackupZipContents(ZipArchiveEntry Dump, ZipArchiveEntry Manifest, JsonElement ManifestJson, int FilestoreFiles, long FilestoreBytes)
{
    /// <summary>"custom" (pg_dump's archive, ours) or "sql" (plain SQL, Odoo's).</summary>
    public string DumpFormat => Dump.FullName == BackupZipRules.DumpCustom ? "custom" : "sql";
}

/// <summary>A zip that is not a backup, and why (a 400 naming the file to the uploader).</summary>
public sealed class BackupZipRejectedException(string message) : Exception(message);
