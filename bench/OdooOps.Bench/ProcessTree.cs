using System.Globalization;

namespace OdooOps.Bench;

/// <summary>
/// A snapshot of a process and its descendants from /proc: per process its command name, CPU time used so far
/// (utime + stime of all its threads, in clock ticks) and resident memory. Two snapshots give each one's CPU use between.
/// </summary>
public sealed record ProcessTree(int Root, DateTime At, IReadOnlyDictionary<int, ProcessTree.Entry> Processes)
{
    public const double TicksPerSecond = 100; // USER_HZ, 100 on every Linux ABI

    public sealed record Entry(int Pid, int Parent, string Command, long Ticks, long RssKb);

    /// <summary>The trees of <paramref name="roots"/> (the first one is <see cref="Root"/>).</summary>
    public static ProcessTree Of(params int[] roots)
    {
        var all = new Dictionary<int, Entry>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && Read(pid) is { } entry)
                all[pid] = entry;
        var children = all.Values.ToLookup(e => e.Parent);
        var tree = new Dictionary<int, Entry>();
        var todo = new Stack<int>(roots);
        while (todo.TryPop(out var pid))
        {
            if (!all.TryGetValue(pid, out var entry) || !tree.TryAdd(pid, entry)) continue;
            foreach (var child in children[pid]) todo.Push(child.Pid);
        }
        return new ProcessTree(roots[0], DateTime.UtcNow, tree);
    }

    /// <summary>CPU used between <paramref name="before"/> and this snapshot by the processes <paramref name="which"/> picks,
    /// in percent of one core (processes that were not there before count from zero).</summary>
    public double CpuPercentSince(ProcessTree before, Func<Entry, bool> which)
    {
        var ticks = Processes.Values.Where(which)
            .Sum(e => e.Ticks - (before.Processes.TryGetValue(e.Pid, out var b) && b.Command == e.Command && b.Ticks <= e.Ticks ? b.Ticks : 0));
        return ticks / TicksPerSecond / (At - before.At).TotalSeconds * 100;
    }

    public long RssKb(Func<Entry, bool> which) => Processes.Values.Where(which).Sum(e => e.RssKb);

    public int Count(Func<Entry, bool> which) => Processes.Values.Count(which);

    static Entry? Read(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var open = stat.IndexOf('(');
            var close = stat.LastIndexOf(')');
            var fields = stat[(close + 2)..].Split(' ');
            // After the name: state(0) ppid(1) … utime(11) stime(12); rss in pages is field 21.
            return new Entry(pid, int.Parse(fields[1], CultureInfo.InvariantCulture), stat[(open + 1)..close],
                long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture),
                long.Parse(fields[21], CultureInfo.InvariantCulture) * Environment.SystemPageSize / 1024);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException) { return null; }
    }
}
