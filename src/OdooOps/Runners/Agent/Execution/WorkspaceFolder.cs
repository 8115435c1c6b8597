namespace OdooOps.Runners.Agent.Execution;

/// <summary>Deleting a workspace a build may have left read-only (chmod -R a-w, Go module caches…).</summary>
internal static class WorkspaceFolder
{
    public static void Delete(string dir)
    {
        if (!Directory.Exists(dir)) return;
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            MakeFoldersWritable(dir);
            Directory.Delete(dir, recursive: true);
        }
    }

    // Removing an entry needs write access to its folder only. Each folder is opened up before it is listed (a 000
    // folder cannot be listed); symlinks are skipped so nothing outside the workspace is touched.
    static void MakeFoldersWritable(string dir)
    {
        File.SetUnixFileMode(dir, File.GetUnixFileMode(dir) | UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        foreach (var sub in Directory.EnumerateDirectories(dir, "*", new EnumerationOptions { AttributesToSkip = FileAttributes.ReparsePoint }))
            MakeFoldersWritable(sub);
    }
}
