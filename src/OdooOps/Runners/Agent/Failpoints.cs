namespace OdooOps.Runners.Agent;

/// <summary>
/// Named points where a runner can be told to stop and wait until it is killed (OPS_RUNNER_FAILPOINTS=name,…): how the
/// reliability trials kill a real `odooops runner` at a known moment of a backup, a verification or a restore, rather
/// than at a moment a timer guesses. Unset (always, outside those trials) a point costs one string lookup.
/// </summary>
internal static class Failpoints
{
    public const string Key = "OPS_RUNNER_FAILPOINTS";

    /// <summary>The backup's zip is written in the task's folder and not yet sent.</summary>
    public const string BackupWritten = "backup.written";

    /// <summary>A verification restored its scratch database and folder and has not checked nor dropped them.</summary>
    public const string VerifyRestored = "verify.restored";

    /// <summary>A restore built its database and filestore beside the live ones and has not swapped them in.</summary>
    public const string RestoreBuilt = "restore.built";

    static readonly HashSet<string> Set = [.. (Environment.GetEnvironmentVariable(Key) ?? "")
        .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    /// <summary>At a point that is set: says so in the log and waits for the token (the runner stopping) or the kill.</summary>
    public static async Task HoldAsync(string name, Action<string>? say, CancellationToken ct)
    {
        if (Set.Count == 0 || !Set.Contains(name)) return;
        say?.Invoke($"Failpoint {name}: holding here until the runner is killed ({Key})");
        await Task.Delay(Timeout.Infinite, ct);
    }
}
