using System.Text.Json;
using Dapper;
using OdooOps.Audit;
using OdooOps.Backups.Storage;
using OdooOps.Branches;
using OdooOps.Database;

namespace OdooOps.Backups;

/// <summary>
/// A person's import of a backup zip (Odoo's, with dump.sql, or OdooOps' own, with dump.dump) into a branch, for the API,
/// the console's import form (<see cref="Pages.BackupImportForm"/>) and (through the API) the CLI. Three steps, so that the upload — which may take long — holds no transaction: the backup row
/// of kind <c>import</c> is made (ops.request_import: who may, the 5-a-day quota); the storage checks and keeps the
/// stream (<see cref="BackupImport"/>); then ops.finish_import records how it ended (succeeded: verified next; failed:
/// with the reason) with the <c>backup.import</c> audit row. Whatever happens to the upload, the row does not stay
/// "running": a failure is recorded with its reason, and an upload the server never finished is failed by the retention
/// job a day later.
/// </summary>
internal static class BackupImportUpload
{
    public const string FileField = "file";

    public static async Task<BackupOutcome> ImportAsync(OpsDatabase db, BackupImport import, Actor actor, Guid projectId, Guid branchId, Stream zip,
        CancellationToken ct)
    {
        var started = await BackupOutcome.AsUserAsync(db, actor.UserId, async (c, t) =>
            await BranchStore.GetAsync(c, t, projectId, branchId) is null
                ? new BackupOutcome.NotFound()
                : new BackupOutcome.Queued(new Backup { Id = await c.ExecuteScalarAsync<Guid>("select ops.request_import(@branchId)", new { branchId }, t) }), ct);
        if (started is not BackupOutcome.Queued { Backup.Id: var backupId }) return started;

        BackupImport.Imported? stored = null;
        BackupOutcome? refusal = null;
        string? error = null;
        try
        {
            stored = await import.ImportAsync(zip, projectId, branchId, backupId, ct);
        }
        catch (BackupZipRejectedException e)
        {
            (error, refusal) = ($"Not a backup zip: {e.Message}", new BackupOutcome.Invalid(FileField, $"Not a backup zip: {e.Message}"));
        }
        catch (BackupTooLargeException e)
        {
            (error, refusal) = (e.Message, new BackupOutcome.TooLarge(e.Message));
        }
        catch (BackupStorageUnavailableException e)
        {
            (error, refusal) = ($"The backup storage could not be used: {e.Message}", new BackupOutcome.Unavailable(e.Message));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            error = "The upload was cancelled before it was complete.";
        }
        catch (Exception e) when (e is IOException or BadHttpRequestException)
        {
            (error, refusal) = ($"The upload broke off: {e.Message}", new BackupOutcome.Invalid(FileField, $"The upload broke off: {e.Message}"));
        }

        // Not the request's token: a cancelled upload is still recorded as failed.
        var finished = await db.AsUserAsync(actor.UserId, async (c, t) =>
        {
            await c.ExecuteAsync("""
                select ops.finish_import(@backupId, @Storage, @StorageKey, @SizeBytes, @Sha256, @OdooVersion, @modules::jsonb, @FilestoreFiles,
                                         @FilestoreBytes, @error)
                """, new
            {
                backupId, stored?.Storage, stored?.StorageKey, stored?.SizeBytes, stored?.Sha256, stored?.OdooVersion, stored?.FilestoreFiles,
                stored?.FilestoreBytes, modules = stored is null ? null : JsonSerializer.Serialize(stored.Modules), error,
            }, t);
            var backup = (await BackupStore.GetAsync(c, t, backupId))!;
            await BackupRequests.AuditAsync(c, t, actor, backup, "backup.import",
                new { backup.Branch, backup.Stage, backup.Status, backup.Reason, backup.SizeBytes, backup.Sha256 });
            return backup;
        }, CancellationToken.None);
        ct.ThrowIfCancellationRequested();
        return refusal is null ? new BackupOutcome.Queued(finished) : refusal with { Recorded = finished };
    }
}
