using System.Diagnostics;
using System.IO.Compression;
using OdooOps.Database;

namespace OdooOps.Backups.Storage;

/// <summary>
/// A stored backup as Odoo's standard backup zip, written to a stream as it is read: <c>dump.sql</c> (the custom-format
/// <c>dump.dump</c> turned into plain SQL by <c>pg_restore --no-owner --no-privileges -f -</c>, its input and output
/// piped, no temporary file), then <c>filestore/…</c> and <c>manifest.json</c> copied. A stored zip that already holds
/// <c>dump.sql</c> (an imported Odoo zip) is copied as it is. The output zip is written front to back (data
/// descriptors), so it can go straight into an HTTP response.
/// </summary>
internal static class OdooZipExport
{
    /// <summary>
    /// Writes the Odoo zip of <paramref name="backup"/> into <paramref name="output"/>. A failure part-way (pg_restore
    /// refusing the archive, the storage going away) throws after some bytes were written: the caller must then cut the
    /// response off rather than end it as if it were whole.
    /// </summary>
    public static async Task WriteAsync(ZipArchive backup, BackupZipContents contents, Stream output, CancellationToken ct)
    {
        var response = new AsyncWriteStream(output);
        await using (var zip = await ZipArchive.CreateAsync(response, ZipArchiveMode.Create, leaveOpen: true, entryNameEncoding: null, ct))
            await WriteEntriesAsync(backup, contents, zip, ct);
        await response.FlushAsync(ct);
    }

    static async Task WriteEntriesAsync(ZipArchive backup, BackupZipContents contents, ZipArchive zip, CancellationToken ct)
    {
        var sql = zip.CreateEntry(BackupZipRules.DumpSql, CompressionLevel.Fastest);
        sql.LastWriteTime = contents.Dump.LastWriteTime;
        await using (var to = await sql.OpenAsync(ct))
        await using (var from = await contents.Dump.OpenAsync(ct))
        {
            if (contents.DumpFormat == "sql") await from.CopyToAsync(to, ct);
            else await PlainSqlAsync(from, to, ct);
        }
        foreach (var entry in backup.Entries.Where(e => e.FullName.StartsWith(BackupZipRules.Filestore, StringComparison.Ordinal)))
            await CopyAsync(entry, zip, CompressionLevel.NoCompression, ct); // images and PDFs, mostly: compressed already
        await CopyAsync(contents.Manifest, zip, CompressionLevel.Optimal, ct);
    }

    static async Task CopyAsync(ZipArchiveEntry entry, ZipArchive zip, CompressionLevel level, CancellationToken ct)
    {
        var copy = zip.CreateEntry(entry.FullName, level);
        copy.LastWriteTime = entry.LastWriteTime;
        if (entry.FullName.EndsWith('/')) return;
        await using var to = await copy.OpenAsync(ct);
        await using var from = await entry.OpenAsync(ct);
        await from.CopyToAsync(to, ct);
    }

    /// <summary>pg_restore reading the archive on stdin and writing the script on stdout; both ends streamed.</summary>
    static async Task PlainSqlAsync(Stream archive, Stream script, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(PgRestore())
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in (string[])["--no-owner", "--no-privileges", "--file", "-"]) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("pg_restore could not be started.");
        try
        {
            var errors = process.StandardError.ReadToEndAsync(ct);
            var feed = Task.Run(async () =>
            {
                try { await archive.CopyToAsync(process.StandardInput.BaseStream, ct); }
                catch (IOException) { } // pg_restore stopped reading (it failed): its exit code and message say why
                finally { try { process.StandardInput.Close(); } catch (IOException) { } }
            }, ct);
            await process.StandardOutput.BaseStream.CopyToAsync(script, ct);
            await feed;
            await process.WaitForExitAsync(ct);
            if (process.ExitCode != 0)
                throw new InvalidDataException($"pg_restore could not read the backup's dump (exit {process.ExitCode}): {Trimmed(await errors)}");
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    static string Trimmed(string text) => text.Length > 2000 ? text[..2000] + "…" : text.Trim();

    /// <summary>The newest PostgreSQL's pg_restore of this machine (it reads archives of its own and older versions), else PATH's.</summary>
    static string PgRestore()
    {
        try
        {
            var tool = PostgresBinaries.Locate().Tool("pg_restore");
            if (File.Exists(tool)) return tool;
        }
        catch (PostgresNotInstalledException) { }
        return "pg_restore";
    }
}
