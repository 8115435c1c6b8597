using OdooOps.Runners.Agent.Execution;

namespace OdooOps.Runners.Agent.Sandbox;

/// <summary>
/// Whether this host can sandbox builds: checked once when a runner starts, by starting a real sandbox (network
/// included). A runner whose sandbox cannot start takes no build (unless OPS_RUNNER_UNSANDBOXED=1), and says in one
/// line what to install.
/// </summary>
internal static class SandboxProbe
{
    public const string Install = "install bubblewrap and slirp4netns (apt-get install bubblewrap slirp4netns)";

    public const string NeedsRoot = "The build sandbox needs the runner to run as root (each build gets a uid of its own, cgroup " +
        $"limits and a network namespace); run it as root, or set {SandboxSettings.UnsandboxedKey}=1 on a single-user machine.";

    /// <summary>
    /// What a starting runner checks: null when it may take builds (sandboxed, or unsandboxed on request, which is
    /// logged as a warning); else the one line it stops with.
    /// </summary>
    public static async Task<string?> RunnerMayStartAsync(RunnerOptions options, ILogger log, CancellationToken ct)
    {
        if (!options.Sandbox.Enabled)
        {
            log.LogWarning("{Key}=1: builds run UNSANDBOXED, as this runner's own user, seeing what it sees. Only for a single-user machine.",
                SandboxSettings.UnsandboxedKey);
            return null;
        }
        if (options.StepUser is not null)
            log.LogWarning("The step user is not used: sandboxed builds run as uids of their own ({Key}).", SandboxSettings.UidsKey);
        if (!Environment.IsPrivilegedProcess) return NeedsRoot;
        Directory.CreateDirectory(options.WorkDir);
        // A runner that died left its builds' HOMEs and control files (a token header, a deploy key): none is running now.
        Execution.WorkspaceFolder.Delete(Path.Combine(options.WorkDir, "sandboxes"));
        CloseInheritedDescriptorsOnExec();
        return await CheckAsync(options.Sandbox, options.WorkDir, ct);
    }

    /// <summary>
    /// File descriptors the runner inherited (from a shell, a supervisor) would be inherited by every process it starts,
    /// sandboxes included (neither .NET nor bubblewrap closes them): marked close-on-exec, they stay the runner's.
    /// </summary>
    static void CloseInheritedDescriptorsOnExec()
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
            if (int.TryParse(Path.GetFileName(entry), out var fd) && fd > 2)
            {
                var flags = fcntl(fd, GetFd, 0);
                if (flags >= 0) fcntl(fd, SetFd, flags | CloseOnExec);
            }
    }

    const int GetFd = 1, SetFd = 2, CloseOnExec = 1;

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    static extern int fcntl(int fd, int cmd, int arg);

    /// <summary>Null when a sandbox starts here; else the one-line reason, naming what to install.</summary>
    public static async Task<string?> CheckAsync(SandboxSettings settings, string workDir, CancellationToken ct)
    {
        foreach (var (tool, program) in new[] { ("bubblewrap", settings.BwrapProgram), ("slirp4netns", "slirp4netns"), ("util-linux", "setpriv"), ("util-linux", "nsenter"), ("util-linux", "unshare") })
            if (!File.Exists(SessionProcess.LocateProgram(program)) && !File.Exists(Path.Combine("/usr/bin", program)))
                return $"The build sandbox cannot start: {program} ({tool}) was not found; {Install}, " +
                       $"or set {SandboxSettings.UnsandboxedKey}=1 on a single-user machine.";
        var id = Guid.NewGuid();
        var workspace = Directory.CreateDirectory(Path.Combine(workDir, "sandboxes", $"probe-{id:N}")).FullName;
        try
        {
            await using var sandbox = await BuildSandbox.CreateAsync(settings, new SandboxUids(settings), workDir, id, ct);
            await sandbox.OwnAsync(workspace, ct);
            var output = new List<string>();
            var run = await SessionProcess.RunAsync(new ProcessCommand("true", [], workspace) { Timeout = TimeSpan.FromMinutes(1) },
                line => output.Add(line.Text), ProcessOptions.Default with { Sandbox = sandbox.Run(workspace, network: true) }, ct);
            return run.Succeeded ? null
                : $"The build sandbox cannot start ({string.Join(" ", output).Trim()}); {Install}, " +
                  $"or set {SandboxSettings.UnsandboxedKey}=1 on a single-user machine.";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return $"The build sandbox cannot start: {e.Message}";
        }
        finally
        {
            WorkspaceFolder.Delete(workspace);
        }
    }
}
