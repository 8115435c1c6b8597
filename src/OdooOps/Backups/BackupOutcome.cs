using Npgsql;
using OdooOps.Database;

namespace OdooOps.Backups;

/// <summary>
/// What a backup use case (<see cref="BackupRequests"/>, <see cref="BackupDownload"/>, <see cref="BackupImportUpload"/>)
/// ended in, for the API, the console and (through the API) the CLI to word. The database's refusals become outcomes
/// and the transaction, with anything it wrote, is rolled back.
/// </summary>
internal abstract record BackupOutcome
{
    /// <summary>A backup was queued (or imported): the backup as it is now.</summary>
    public sealed record Queued(Backup Backup) : BackupOutcome;
    /// <summary>A restore or a verification was queued: the task, on <see cref="Backup"/>; a production restore's
    /// pre-restore backup.</summary>
    public sealed record TaskQueued(Backup Backup, BackupTask Task, Backup? PreRestore) : BackupOutcome;
    public sealed record Link(Backup Backup, DownloadLink Download) : BackupOutcome;
    /// <summary>A task was cancelled (a queued one), or its runner was asked to stop it (a running one:
    /// <see cref="BackupTask.CancelRequested"/>); the task as it is now, on <see cref="Backup"/>.</summary>
    public sealed record TaskCancelled(Backup Backup, BackupTask Task) : BackupOutcome;
    public sealed record NotFound : BackupOutcome;
    /// <summary>The caller's role does not reach the branch's backup role (403).</summary>
    public sealed record Refused(string Message) : BackupOutcome;
    /// <summary>Not now, in words: archived branch, no host, a restore already running, a backup not taken (409).</summary>
    public sealed record Conflict(string Message) : BackupOutcome;
    public sealed record Invalid(string Field, string Message) : BackupOutcome;
    /// <summary>The 6th manual backup (or import) of a branch in 24 hours (429).</summary>
    public sealed record TooMany(string Message, int RetryAfterSeconds) : BackupOutcome;
    /// <summary>The storage cannot be reached now (503).</summary>
    public sealed record Unavailable(string Message) : BackupOutcome;
    /// <summary>An upload past OPS_BACKUP_MAX_GB (413).</summary>
    public sealed record TooLarge(string Message) : BackupOutcome;

    /// <summary>A refused import whose backup row was made first: that row, failed with the reason (the console shows it).</summary>
    public Backup? Recorded { get; init; }

    /// <summary>The SQLSTATE of "too many backups of this kind in 24 hours" (ops_private.backup_quota; its HINT: the seconds to wait,
    /// as Npgsql keeps DETAIL from the client unless told).</summary>
    public const string QuotaState = "OOB01";

    /// <summary>Runs <paramref name="work"/> as the actor in one transaction; refusals become outcomes.</summary>
    public static async Task<BackupOutcome> AsUserAsync(OpsDatabase db, Guid? userId,
        Func<NpgsqlConnection, NpgsqlTransaction, Task<BackupOutcome>> work, CancellationToken ct)
    {
        try
        {
            return await db.AsUserAsync(userId, work, ct);
        }
        catch (PostgresException e) when (Of(e) is { } outcome)
        {
            return outcome;
        }
    }

    /// <summary>The outcome a refusal of the backups' functions stands for; null for anything else (a real error).</summary>
    public static BackupOutcome? Of(PostgresException e) => e.SqlState switch
    {
        PostgresErrorCodes.NoDataFound => new NotFound(),
        PostgresErrorCodes.InsufficientPrivilege => new Refused(e.MessageText),
        PostgresErrorCodes.ObjectNotInPrerequisiteState => new Conflict(e.MessageText),
        PostgresErrorCodes.InvalidParameterValue => new Invalid(e.ColumnName ?? "backup_id", e.MessageText),
        QuotaState => new TooMany(e.MessageText, int.TryParse(e.Hint, out var seconds) ? seconds : 3600),
        _ => null,
    };
}
