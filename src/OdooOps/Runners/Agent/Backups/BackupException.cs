namespace OdooOps.Runners.Agent.Backups;

/// <summary>
/// A backup that could not be taken, restored or read, with the reason in words for the task's detail (a program's
/// error, a refused archive, a checksum that does not match). Nothing it concerns was left behind.
/// </summary>
internal sealed class BackupException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The verification check this failure is (dump_sha256, filestore), when it is one.</summary>
    public string? Check { get; init; }
}
