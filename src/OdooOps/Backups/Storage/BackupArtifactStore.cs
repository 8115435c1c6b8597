using Dapper;
using Npgsql;

namespace OdooOps.Backups.Storage;

/// <summary>The SQL of the artifact calls and the download: the lease check and the record (Sql/ops.backup_artifact_lease.sql, …).</summary>
internal static class BackupArtifactStore
{
    public sealed record LeasedBackup(Guid ProjectId, Guid BranchId, string Status, string? Storage, string? StorageKey, long? SizeBytes, string? Sha256);

    public sealed record DownloadFacts(string ProjectSlug, string BranchName, DateTime CreatedAt, string Storage, string StorageKey, long? SizeBytes);

    /// <summary>The backup, when this runner's lease entitles it to write (or read) its zip; a PostgresException otherwise (404/409).</summary>
    public static Task<LeasedBackup> LeaseAsync(NpgsqlConnection c, Guid runnerId, Guid backupId, Guid leaseId, bool write) =>
        c.QuerySingleAsync<LeasedBackup>(
            "select project_id, branch_id, status, storage, storage_key, size_bytes, sha256 from ops.backup_artifact_lease(@runnerId, @backupId, @leaseId, @write)",
            new { runnerId, backupId, leaseId, write });

    public static Task RecordAsync(NpgsqlConnection c, Guid runnerId, Guid backupId, Guid leaseId, string storage, string key, StoredObject stored) =>
        c.ExecuteAsync("select ops.record_backup_artifact(@runnerId, @backupId, @leaseId, @storage, @key, @SizeBytes, @Sha256)",
            new { runnerId, backupId, leaseId, storage, key, stored.SizeBytes, stored.Sha256 });

    public static Task<DownloadFacts?> DownloadAsync(NpgsqlConnection c, Guid backupId) =>
        c.QuerySingleOrDefaultAsync<DownloadFacts?>(
            "select project_slug, branch_name, created_at, storage, storage_key, size_bytes from ops.backup_download_facts(@backupId)", new { backupId });
}
