namespace OdooOps.Tests.Runners.Execution;

/// <summary>Process and folder checks for the execution tests.</summary>
public static class ProcessProbe
{
    /// <summary>Alive = /proc/&lt;pid&gt; exists and is not a zombie (PID 1 here may never reap orphans).</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..][0];
            return state is not ('Z' or 'X');
        }
        catch (IOException) { return false; }
    }

    public static string NewTempDir(string prefix)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}
