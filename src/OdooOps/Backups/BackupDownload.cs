using Dapper;
using OdooOps.Audit;
using OdooOps.Database;

namespace OdooOps.Backups;

/// <summary>
/// A person's download of a backup, for the API, the console and the CLI: ops.request_download decides who may (the same
/// role as backing the branch up: a backup is its branch's data) and whether the file is there; the storage makes a
/// short-lived signed link to Odoo's zip (dump.sql, filestore/, manifest.json); the <c>backup.download</c> audit row
/// records who took the data out, and until when the link works.
/// </summary>
internal static class BackupDownload
{
    public static async Task<BackupOutcome> LinkAsync(OpsDatabase db, BackupFiles files, Actor actor, Guid backupId, HttpRequest request,
        CancellationToken ct)
    {
        try
        {
            return await BackupOutcome.AsUserAsync(db, actor.UserId, async (c, t) =>
            {
                var stored = await c.QuerySingleAsync<StoredBackup>("""
                    select k.id as backup_id, k.project_id, k.branch_id, k.storage, k.storage_key, '' as file_name
                      from ops.request_download(@backupId) k
                    """, new { backupId }, t);
                var backup = (await BackupStore.GetAsync(c, t, backupId))!;
                var link = files.Link(stored with { FileName = FileName(backup) }, request);
                await BackupRequests.AuditAsync(c, t, actor, backup, "backup.download", new { link.ExpiresAt, backup.Branch, backup.Kind });
                return new BackupOutcome.Link(backup, link);
            }, ct);
        }
        catch (BackupStorageUnavailableException e)
        {
            return new BackupOutcome.Unavailable(e.Message);
        }
    }

    /// <summary>The download's file name: project, branch, kind and time, as Odoo's own backups are named.</summary>
    public static string FileName(Backup backup) =>
        $"{Safe(backup.Branch)}_{backup.Kind}_{backup.CreatedAt:yyyy-MM-dd_HH-mm-ss}.zip";

    static string Safe(string name) => string.Concat(name.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '.' ? ch : '_'));
}
