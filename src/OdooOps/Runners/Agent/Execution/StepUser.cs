using OdooOps.Database;

namespace OdooOps.Runners.Agent.Execution;

/// <summary>
/// The OS user a runner's steps run as (<c>odooops runner --step-user</c>, OPS_RUNNER_STEP_USER for serve's runner),
/// with its primary group. Steps run arbitrary repository code: as another user they cannot read the runner's token,
/// serve's environment and data dir, or other builds' workspaces. The runner must run as root to switch users.
/// </summary>
public sealed record StepUser(string Name, string Group)
{
    /// <summary>Checks the user exists and the runner may switch to it; a one-line error otherwise.</summary>
    public static async Task<StepUser> ResolveAsync(string name, CancellationToken ct = default)
    {
        if (!Environment.IsPrivilegedProcess)
            throw new InvalidOperationException($"Running steps as '{name}' needs the runner to run as root.");
        var group = await ProcessRunner.RunAsync("id", ["-gn", "--", name], null, ct);
        if (group.ExitCode != 0) throw new InvalidOperationException($"No OS user '{name}' to run steps as.");
        return new StepUser(name, group.Output.Trim());
    }

    /// <summary>Hands a checked-out workspace to the user (the runner clones as itself), so the steps can write in it.</summary>
    public async Task OwnAsync(string directory, CancellationToken ct)
    {
        var chown = await ProcessRunner.RunAsync("chown", ["-R", "--", $"{Name}:{Group}", directory], null, ct);
        if (chown.ExitCode != 0) throw new IOException($"Could not hand {directory} to {Name}: {chown.Describe()}");
    }
}
