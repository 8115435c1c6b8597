using System.Globalization;

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
        _ => null,
    };
}
