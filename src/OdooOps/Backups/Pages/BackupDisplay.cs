using System.Globalization;
using OdooOps.Ui;

namespace OdooOps.Backups.Pages;

/// <summary>How the Backups page words a backup: its size, its verified state, who took it, and the notices after an act.</summary>
internal static class BackupDisplay
{
    public static string Size(long? bytes) => bytes switch
    {
        null => "—",
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KiB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):0.##} GiB"),
    };

    /// <summary>The status badge's tone: green taken, red failed, blue while it is taken, grey while it waits.</summary>
    public static string StatusTone(Backup b) => b.Status switch { "succeeded" => "success", "failed" => "danger", "running" => "progress", _ => "neutral" };

    /// <summary>The verified state's badge; a null tone: nothing to verify (the backup was not taken).</summary>
    public static (string? Tone, string Label) Verified(Backup b) => b.Verification switch
    {
        "verified" => ("success", "verified"),
        "failed" => ("danger", "failed verification"),
        "running" => ("progress", "verifying"),
        _ when b.Status == "succeeded" => ("neutral", "not verified yet"),
        _ => (null, "—"),
    };

    public static string Who(Backup b) => b.RequestedByName ?? (b.Kind == "daily" ? "schedule" : b.BuildId is null ? "—" : "build");

    public static string KindTitle(string kind) => kind switch
    {
        "pre-deploy" => "pre-deploy",
        "pre-restore" => "pre-restore",
        _ => kind,
    };

    /// <summary>What a restore into this stage does besides replacing the database and filestore.</summary>
    public static string RestoreConsequence(string stage, string branch) => stage == "production"
        ? $"It replaces the database and filestore of production branch {branch}. A pre-restore backup of {branch} is taken first, and the restore waits for it: if that backup fails, nothing is restored."
        : $"It replaces the database and filestore of {stage} branch {branch}, then neutralises it: outgoing mail servers off, scheduled actions off, payment and delivery providers in test mode, and the base URL set to the branch's own.";

    /// <summary>The notice after a redirect; only fixed words and names of branches and backups on the page reach it.</summary>
    public static string? Notice(string? done, Backup? backup, string? into, string? intoStage) => (done, backup) switch
    {
        ("create", { } b) => $"Backup of {b.Branch} queued: its host takes it, then a runner restores it into a scratch database to prove it.",
        ("verify", { } b) => $"Verification of the {b.Kind} backup of {b.Branch} queued.",
        ("restore", { }) when into is not null => intoStage == "production"
            ? $"Restore into {into} queued: a pre-restore backup of {into} is taken first, then its database and filestore are replaced."
            : $"Restore into {into} queued: the restored database is neutralised.",
        ("import", { Status: "succeeded" } b) =>
            $"Imported as a backup of {b.Branch} ({Size(b.SizeBytes)}): a runner verifies it next; it is restored only when you ask.",
        _ => null,
    };

    /// <summary>An import that was refused once its backup row existed: the row's reason (the zip's checks, the size, the storage).</summary>
    public static string? ImportFailure(string? done, Backup? backup) =>
        done == "import" && backup is { Kind: "import", Status: "failed" } b ? $"The import into {b.Branch} failed: {b.Reason} Nothing was stored." : null;

    /// <summary>The words of an import refused before its backup row existed (<see cref="BackupImportForm.Errors"/>).</summary>
    public static string? ImportError(string? code, BackupBranch? into, string? role, long maxBytes)
    {
        var branch = into is null ? "that branch" : $"{into.Stage} branch {into.Name}";
        return code switch
        {
            null => null,
            BackupImportForm.Errors.Refused => $"As {UiFormat.WithArticle(role)}, you may not import a backup into {branch}; nothing was imported.",
            BackupImportForm.Errors.TooMany => $"Too many backups of {branch} were imported in the last 24 hours; try again later.",
            BackupImportForm.Errors.TooLarge => $"The file is larger than a backup may be ({Size(maxBytes)}); nothing was imported.",
            BackupImportForm.Errors.Unavailable => "The backup storage cannot be used right now; try again in a minute. Nothing was imported.",
            BackupImportForm.Errors.Conflict => "That branch is archived: it takes no imports. Nothing was imported.",
            BackupImportForm.Errors.NotFound => "That branch no longer exists; nothing was imported.",
            _ => "Choose a branch and a backup zip to import.",
        };
    }

    /// <summary>What a task does, for its row and the notices.</summary>
    public static string TaskLabel(string kind, string branch) => kind switch
    {
        "backup" => $"Backup of {branch}",
        "verify" => $"Verification of a backup of {branch}",
        "restore" => $"Restore into {branch}",
        _ => $"{kind} on {branch}",
    };

    /// <summary>A queued or running task's badge: waiting, running, or asked to stop.</summary>
    public static (string Tone, string Label) TaskState(BackupTask t) =>
        t.CancelRequested ? ("neutral", "cancelling") : t.Status == "running" ? ("progress", "running") : ("neutral", "queued");

    /// <summary>The notice after a cancel; only fixed words and a branch of the page reach it.</summary>
    public static string? CancelNotice(string? done, string? kind, string? branch) => (done, kind, branch) switch
    {
        ("cancel", "backup" or "verify" or "restore", { } b) => $"{TaskLabel(kind, b)} cancelled.",
        ("cancelling", "backup" or "verify" or "restore", { } b) => $"{TaskLabel(kind, b)}: its runner was asked to stop and does so at its next heartbeat.",
        _ => null,
    };
}
