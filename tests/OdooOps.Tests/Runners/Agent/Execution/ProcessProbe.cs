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

    /// <summary>Waits until <paramref name="condition"/> holds; fails with <paramref name="describe"/>'s text after <paramref name="patience"/>.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan patience, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail(describe());
            await Task.Delay(20);
        }
    }

    /// <summary>Live processes of <paramref name="uid"/> (a sandboxed build's processes: their pids are the sandbox's own).</summary>
    public static List<int> ProcessesOf(int uid)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var uidLine = File.ReadLines(Path.Combine(dir, "status")).FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal));
                if (uidLine?.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1] == uid.ToString() && IsAlive(pid)) found.Add(pid);
            }
            catch (IOException) { } // gone meanwhile
        }
        return found;
    }

    /// <summary>This host's first IPv4 address that is not loopback: reachable through a sandbox's outbound network.</summary>
    public static System.Net.IPAddress ExternalAddress() =>
        System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up
                        && n.NetworkInterfaceType != System.Net.NetworkInformation.NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(a => a.Address)
            .First(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork);

    public static string NewTempDir(string prefix)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}
