namespace OdooOps.Tests.Runners.Agent.Execution;

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

    /// <summary>The live processes whose parent is <paramref name="pid"/> (field 4 of /proc/&lt;pid&gt;/stat).</summary>
    public static IReadOnlyList<int> ChildrenOf(int pid)
    {
        var children = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var candidate)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1]) == pid && IsAlive(candidate)) children.Add(candidate);
            }
            catch (IOException) { } // gone meanwhile
        }
        return children;
    }

    /// <summary>Waits until none of <paramref name="pids"/> is alive; fails after <paramref name="patience"/>.</summary>
    public static async Task WaitUntilGoneAsync(IReadOnlyList<int> pids, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (pids.Where(IsAlive).ToList() is { Count: > 0 } alive)
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"still alive after {patience}: {string.Join(", ", alive)}");
            await Task.Delay(20);
        }
    }

    public static string NewTempDir(string prefix)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}
