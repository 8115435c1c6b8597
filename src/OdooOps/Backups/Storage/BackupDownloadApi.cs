using System.Globalization;
using System.IO.Compression;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using OdooOps.Database;

namespace OdooOps.Backups.Storage;

/// <summary>
/// GET /api/ops/backups/{id}/download?expires=…&amp;sig=…: a signed link (<see cref="BackupLinks"/>) is the whole
/// permission, so no session is asked for (a CLI or curl fetches it as it is). The answer is Odoo's standard zip
/// (<see cref="OdooZipExport"/>), streamed, named <c>&lt;project&gt;-&lt;branch&gt;-&lt;UTC date and time&gt;.zip</c>.
/// Everything that can be refused is refused before the first byte: a bad or expired link (401: the link is the
/// credential; the same answer for both), an unknown backup (404), a storage that cannot be reached (503), a stored zip that is not a backup (409).
/// </summary>
internal static class BackupDownloadApi
{
    public static IEndpointRouteBuilder MapBackupDownloadApi(this IEndpointRouteBuilder root)
    {
        root.MapGet("/api/ops/backups/{backupId:guid}/download", DownloadAsync).AllowAnonymous().WithTags("Backups")
            .WithSummary("Download a backup as Odoo's zip (dump.sql, filestore/, manifest.json) through a signed, short-lived link")
            .Produces(StatusCodes.Status200OK, contentType: "application/zip")
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return root;
    }

    static async Task<Results<EmptyHttpResult, ProblemHttpResult>> DownloadAsync(Guid backupId, string? expires, string? sig, HttpContext http,
        BackupLinks links, OpsDatabase db, BackupStores stores, ILogger<BackupLinks> log, CancellationToken ct)
    {
        if (!links.IsValid(backupId, expires, sig))
            return TypedResults.Problem(statusCode: 401, title: "Unauthorized", detail: "This download link is not valid or has expired; ask for a new one.");
        BackupArtifactStore.DownloadFacts? facts;
        await using (var conn = await db.Service.OpenConnectionAsync(ct))
            facts = await BackupArtifactStore.DownloadAsync(conn, backupId);
        if (facts is null) return TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"Backup {backupId} is not (or no longer) available.");

        await using var source = await stores.For(facts.Storage).OpenReadAsync(facts.StorageKey, ct);
        ZipArchive backup;
        BackupZipContents contents;
        try
        {
            backup = await ZipArchive.CreateAsync(source, ZipArchiveMode.Read, leaveOpen: true, entryNameEncoding: null, ct);
            contents = await BackupZipRules.CheckAsync(backup, ct);
        }
        catch (Exception e) when (e is InvalidDataException or BackupZipRejectedException)
        {
            log.LogError("Backup {BackupId} ({Key}) cannot be read as a backup zip: {Message}", backupId, facts.StorageKey, e.Message);
            return TypedResults.Problem(statusCode: 409, title: "Conflict", detail: "The stored backup cannot be read as a backup zip.");
        }

        await using (backup)
        {
            http.Response.ContentType = "application/zip";
            http.Response.Headers.CacheControl = "no-store";
            http.Response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = FileName(facts) }.ToString();
            try
            {
                await OdooZipExport.WriteAsync(backup, contents, http.Response.Body, ct);
            }
            catch (Exception e) when (e is InvalidDataException or BackupStorageUnavailableException or IOException && !ct.IsCancellationRequested)
            {
                // Part of the zip is sent: cut the connection so that no client takes a truncated zip for a whole one.
                log.LogError("The download of backup {BackupId} failed part-way: {Message}", backupId, e.Message);
                http.Abort();
            }
        }
        return TypedResults.Empty;
    }

    /// <summary>project-branch-2024-05-01_03-00-00.zip (UTC, as Odoo names its backups); the branch's slashes and the like become '_'.</summary>
    internal static string FileName(BackupArtifactStore.DownloadFacts facts)
    {
        static string Safe(string s) => new([.. s.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_')]);
        var at = DateTime.SpecifyKind(facts.CreatedAt, DateTimeKind.Utc).ToUniversalTime();
        return $"{Safe(facts.ProjectSlug)}-{Safe(facts.BranchName)}-{at.ToString("yyyy-MM-dd_HH-mm-ss", CultureInfo.InvariantCulture)}.zip";
    }
}
