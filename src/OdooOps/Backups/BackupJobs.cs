using Dapper;
using OdooOps.Backups.Storage;
using OdooOps.Configuration;
using OdooOps.Database;
using OdooOps.Scheduler;

namespace OdooOps.Backups;

/// <summary>
/// The <c>backup_schedule</c> job (every 5 minutes): queues the daily backup of every production branch with a current
/// instance once its project's backup_time (UTC) has come that day (ops.queue_daily_backups; one per branch and day, a
/// late or restarted server catches up on the latest slot). Runs as ops_service.
/// </summary>
internal static class BackupScheduleJob
{
    public static readonly ScheduledJob Job = new("backup_schedule", "*/5 * * * *", async (services, ct) =>
    {
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        await using var conn = await services.GetRequiredService<OpsDatabase>().Service.OpenConnectionAsync(ct);
        var queued = await conn.ExecuteScalarAsync<int>(new CommandDefinition("select ops.queue_daily_backups(@now)", new { now }, cancellationToken: ct));
        return $"{queued} daily backup(s) queued";
    });
}

/// <summary>
/// The <c>backup_retention</c> job (hourly): marks the backups no longer kept (ops.prune_backups: 7 daily / 4 weekly / 3
/// monthly by the project's settings, manual and imported ones OPS_BACKUP_MANUAL_KEEP_DAYS, pre-deploy and pre-restore
/// ones OPS_BACKUP_SAFETY_KEEP_DAYS, never a branch's newest verified one), then deletes their stored files through the
/// storage, each marked once gone. A file the storage could not delete fails the run with its reason (the job's history
/// and `doctor` show it) and is tried again at the next run; nothing is dropped silently.
/// </summary>
internal static class BackupRetentionJob
{
    public const string ManualKeepKey = "OPS_BACKUP_MANUAL_KEEP_DAYS";
    public const string SafetyKeepKey = "OPS_BACKUP_SAFETY_KEEP_DAYS";
    public const int DefaultManualDays = 30;
    public const int DefaultSafetyDays = 30;

    /// <summary>Files deleted per round of the run (each round reads the next ones).</summary>
    public const int FileBatch = 100;

    public static readonly ScheduledJob Job = new("backup_retention", "40 * * * *", RunAsync)
    {
        CheckSettings = config => _ = (ManualDays(config), SafetyDays(config)),
        Timeout = TimeSpan.FromMinutes(30),
    };

    public static int ManualDays(IConfiguration config) => OpsConfiguration.Days(config, ManualKeepKey, DefaultManualDays);

    public static int SafetyDays(IConfiguration config) => OpsConfiguration.Days(config, SafetyKeepKey, DefaultSafetyDays);

    static async Task<string> RunAsync(IServiceProvider services, CancellationToken ct)
    {
        var config = services.GetRequiredService<IConfiguration>();
        var stores = services.GetRequiredService<BackupStores>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        await using var conn = await services.GetRequiredService<OpsDatabase>().Service.OpenConnectionAsync(ct);
        var pruned = await conn.ExecuteScalarAsync<int>(new CommandDefinition("select ops.prune_backups(@now, @manual, @safety)",
            new { now, manual = ManualDays(config), safety = SafetyDays(config) }, cancellationToken: ct));

        var (deleted, failures) = (0, new List<string>());
        var tried = new HashSet<Guid>();
        while (true)
        {
            var batch = (await conn.QueryAsync<(Guid BackupId, string? Storage, string StorageKey)>(new CommandDefinition(
                "select backup_id, storage, storage_key from ops.backup_files_to_delete(@limit)", new { limit = FileBatch + tried.Count },
                cancellationToken: ct))).Where(f => tried.Add(f.BackupId)).ToList();
            if (batch.Count == 0) break;
            foreach (var (backupId, storage, key) in batch)
            {
                try
                {
                    await stores.For(storage).DeleteAsync(key, ct);
                    await conn.ExecuteAsync(new CommandDefinition("select ops.mark_backup_file_deleted(@backupId)", new { backupId }, cancellationToken: ct));
                    deleted++;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    failures.Add($"{key}: {e.Message}");
                }
            }
        }
        var summary = $"{pruned} backup(s) pruned, {deleted} file(s) deleted";
        return failures.Count == 0
            ? summary
            : throw new InvalidOperationException($"{summary}; {failures.Count} file(s) could not be deleted and are tried again next run: {string.Join("; ", failures.Take(5))}");
    }
}
