using OdooOps.Database;
using OdooOps.Runners.Agent.Backups;
using OdooOps.Runners.Agent.Instances;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Runners.Agent.Tasks;

/// <summary>
/// Takes a backup into a file of the task's (or build's) folder, sends it to the server and records it: one path for a
/// backup task and a production build's pre-deploy backup. The server's own size and SHA-256 of what it stored must
/// match what was written, or the backup fails. The file stays for the caller (a build restores it if its update fails).
/// </summary>
internal static class BackupShipping
{
    /// <summary>The facts of the recorded backup, or null when it failed (recorded as failed, with the reason, when the lease allows).</summary>
    public static async Task<BackupFacts?> TakeAndSendAsync(DispatchClient client, OdooDatabaseServer server, OdooData source, string odooVersion,
        Guid backupId, Guid leaseId, string file, Action<string> say, CancellationToken ct)
    {
        try
        {
            say($"Backing up database {source.DatabaseName} and its filestore");
            BackupFacts facts;
            await using (var output = new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
                facts = await new BackupWriter(server, PostgresBinaries.LocateClients()).WriteAsync(source, odooVersion, output, say, ct);
            say($"Backup written: {Describe(facts)}; sending it to the server");
            await Failpoints.HoldAsync(Failpoints.BackupWritten, say, ct);
            var stored = await client.UploadBackupAsync(backupId, leaseId, file, ct);
            if (stored.SizeBytes != facts.SizeBytes || !string.Equals(stored.Sha256, facts.Sha256, StringComparison.OrdinalIgnoreCase))
                throw new BackupException($"the server stored {stored.SizeBytes} bytes (SHA-256 {stored.Sha256}), not the {facts.SizeBytes} written ({facts.Sha256})");
            await client.BackupDoneAsync(backupId, leaseId, "succeeded", null, facts, ct);
            say($"Backup {backupId} stored (SHA-256 {facts.Sha256})");
            return facts;
        }
        catch (Exception e) when (e is IOException or BackupException or InvalidOperationException or ArgumentException or Npgsql.NpgsqlException
                                   or HttpRequestException)
        {
            say($"The backup failed: {e.Message}");
            try { await client.BackupDoneAsync(backupId, leaseId, "failed", e.Message, null, CancellationToken.None); }
            catch (Exception report) when (report is HttpRequestException or LeaseLostException) { say($"The failure could not be recorded: {report.Message}"); }
            return null;
        }
    }

    public static string Describe(BackupFacts facts) =>
        $"{BackupWriter.Size(facts.SizeBytes)} in {facts.DurationMs / 1000.0:0.0} s, {facts.TableCount} tables, {facts.FilestoreFiles} filestore file(s)";
}
