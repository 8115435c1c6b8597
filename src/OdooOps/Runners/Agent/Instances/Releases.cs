namespace OdooOps.Runners.Agent.Instances;

/// <summary>
/// Releases: successful builds' checkouts kept on the runner host (work dir/releases/&lt;build id&gt;), which its
/// instances run from, read-only. Owned by root and readable by all (an instance runs as a uid of its own, read-only
/// anyway), inside a root-only folder. The server says which to keep (live instances' and the last few per branch for
/// a rollback); the rest are deleted.
/// </summary>
internal static class Releases
{
    public static string Root(string workDir) => Path.Combine(Path.GetFullPath(workDir), "releases");

    public static string Folder(string workDir, Guid buildId) => Path.Combine(Root(workDir), buildId.ToString("D"));

    /// <summary>Moves a finished build's checkout into its release folder, root's and read-only to others.</summary>
    public static async Task KeepAsync(string workDir, Guid buildId, string checkout, CancellationToken ct)
    {
        var root = Directory.CreateDirectory(Root(workDir)).FullName;
        File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var target = Folder(workDir, buildId);
        if (Directory.Exists(target)) Execution.WorkspaceFolder.Delete(target);
        Directory.Move(checkout, target);
        if (Environment.IsPrivilegedProcess)
        {
            var chown = await Database.ProcessRunner.RunAsync("chown", ["-R", "--no-dereference", "0:0", "--", target], null, ct);
            if (chown.ExitCode != 0) throw new IOException($"Could not hand release {buildId} to root: {chown.Describe()}");
        }
        var chmod = await Database.ProcessRunner.RunAsync("chmod", ["-R", "u+rwX,go+rX,go-w", "--", target], null, ct);
        if (chmod.ExitCode != 0) throw new IOException($"Could not make release {buildId} readable: {chmod.Describe()}");
    }

    /// <summary>Deletes the releases not in <paramref name="keep"/> nor in use; answers how many went.</summary>
    public static int Prune(string workDir, IReadOnlySet<Guid> keep, Func<Guid, bool> inUse)
    {
        var root = Root(workDir);
        if (!Directory.Exists(root)) return 0;
        var deleted = 0;
        foreach (var folder in Directory.EnumerateDirectories(root))
        {
            if (!Guid.TryParse(Path.GetFileName(folder), out var id) || keep.Contains(id) || inUse(id)) continue;
            try { Execution.WorkspaceFolder.Delete(folder); deleted++; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return deleted;
    }
}
