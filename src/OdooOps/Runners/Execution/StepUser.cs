using System.Diagnostics;

namespace OdooOps.Runners.Execution;

/// <summary>
/// The OS user a runner's steps run as (<c>odooops runner --step-user</c>, OPS_RUNNER_STEP_USER for serve's runner),
/// with its primary group. Steps run arbitrary repository code: as another user they cannot read the runner's token,
/// serve's environment and data dir, or other builds' workspaces. The runner must run as root to switch users.
/// </summary>
public sealed record StepUser(string Name, string Group)
{
    /// <summary>Checks the user exists and the runner may switch to it; a one-line error otherwise.</summary>
    public static StepUser Resolve(string name)
    {
        if (!Environment.IsPrivilegedProcess)
            throw new InvalidOperationException($"Running steps as '{name}' needs the runner to run as root.");
        var group = Run("id", "-gn", "--", name);
        if (group is null) throw new InvalidOperationException($"No OS user '{name}' to run steps as.");
        return new StepUser(name, group);
    }

    /// <summary>Hands a checked-out workspace to the user (the runner clones as itself), so the steps can write in it.</summary>
    public void Own(string directory)
    {
        if (Run("chown", "-R", "--", $"{Name}:{Group}", directory) is null)
            throw new IOException($"Could not hand {directory} to {Name}.");
    }

    /// <summary>The program's first output line, or null when it failed.</summary>
    static string? Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var output = p.StandardOutput.ReadToEnd();
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode == 0 ? output.Split('\n')[0].Trim() : null;
    }
}
