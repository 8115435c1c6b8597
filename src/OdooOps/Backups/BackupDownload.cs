using Dapper;
using OdooOps.Audit;
using OdooOps.Backups.Storage;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Backups;

/// <summary>A short-lived signed link that streams a backup as Odoo's zip; whoever holds it may download until it expires.</summary>
public sealed record DownloadLink(string Url, DateTimeOffset ExpiresAt, string FileName);

/// <summary>
/// A person's download of a backup, for the API, the console and the CLI: ops.request_download decides who may (the same
/// role as backing the branch up: a backup is its branch's data) and whether the file is there; <see cref="BackupLinks"/>
/// signs the link (the storage's GET of it streams Odoo's zip: dump.sql, filestore/, manifest.json); the
/// <c>backup.download</c> audit row records who took the data out, and until when the link works.
/// </summary>
internal static class BackupDownload
{
    public static Task<BackupOutcome> LinkAsync(OpsDatabase db, BackupLinks links, WebSettings web, Actor actor, Guid backupId, HttpRequest request,
        CancellationToken ct) =>
        BackupOutcome.AsUserAsync(db, actor.UserId, async (c, t) =>
        {
            var facts = await c.QuerySingleAsync<BackupArtifactStore.DownloadFacts>("""
                select p.slug as project_slug, b.name as branch_name, k.created_at, k.storage, k.storage_key, k.size_bytes
                  from ops.request_download(@backupId) k
                  join ops.projects p on p.id = k.project_id
                  join ops.branches b on b.id = k.branch_id
                """, new { backupId }, t);
            var backup = (await BackupStore.GetAsync(c, t, backupId))!;
            var signed = links.Create(backupId);
            var root = web.PublicUrl is { } configured ? configured.AbsoluteUri.TrimEnd('/') : $"{request.Scheme}://{request.Host}{request.PathBase}";
            var link = new DownloadLink(root + signed.Path, signed.ExpiresAt, BackupDownloadApi.FileName(facts));
            await BackupRequests.AuditAsync(c, t, actor, backup, "backup.download", new { link.ExpiresAt, backup.Branch, backup.Kind });
            return new BackupOutcome.Link(backup, link);
        }, ct);
}
