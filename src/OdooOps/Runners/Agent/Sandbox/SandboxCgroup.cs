using System.Globalization;
using System.Runtime.InteropServices;

namespace OdooOps.Runners.Agent.Sandbox;

/// <summary>
/// A build's control group: memory, process and CPU limits for everything its steps start (the sandbox launcher joins
/// it before bubblewrap starts, so nothing inside can leave it), counters that tell why a step died, and a way to end
/// every process left in it. cgroup v1 (one folder per controller, as on this project's CI machines) or v2 (one
/// unified folder). Null from <see cref="TryCreate"/> when the host gives the runner no writable cgroups: the build
/// then runs with a per-uid process limit and its timeout only, and says so in its log.
/// </summary>
internal sealed class SandboxCgroup
{
    const string Root = "/sys/fs/cgroup";
    const string Parent = "odooops";
    readonly string[] _folders;
    readonly bool _v2;

    SandboxCgroup(string[] folders, bool v2) => (_folders, _v2) = (folders, v2);

    /// <summary>The cgroup.procs files the launcher writes its pid to.</summary>
    public IReadOnlyList<string> ProcsFiles => [.. _folders.Select(f => Path.Combine(f, "cgroup.procs"))];

    public static SandboxCgroup? TryCreate(string name, SandboxSettings settings, out string? whyNot)
    {
        whyNot = null;
        try
        {
            var group = File.Exists(Path.Combine(Root, "cgroup.controllers")) ? CreateV2(name, settings) : CreateV1(name, settings);
            if (group is null) whyNot = "no writable memory, pids and cpu cgroup controllers";
            return group;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            whyNot = e.Message;
            return null;
        }
    }

    static SandboxCgroup? CreateV1(string name, SandboxSettings settings)
    {
        string Folder(string controller) => Path.Combine(Root, controller, Parent, name);
        if (!new[] { "memory", "pids", "cpu" }.All(c => Directory.Exists(Path.Combine(Root, c)))) return null;
        var memory = Directory.CreateDirectory(Folder("memory")).FullName;
        var pids = Directory.CreateDirectory(Folder("pids")).FullName;
        var cpu = Directory.CreateDirectory(Folder("cpu")).FullName;
        var bytes = settings.MemoryBytes.ToString(CultureInfo.InvariantCulture);
        Write(memory, "memory.limit_in_bytes", bytes);
        // With swap accounting, swap counts too: a memory hog is stopped, not paged out for minutes.
        if (File.Exists(Path.Combine(memory, "memory.memsw.limit_in_bytes"))) Write(memory, "memory.memsw.limit_in_bytes", bytes);
        Write(pids, "pids.max", settings.MaxProcesses.ToString(CultureInfo.InvariantCulture));
        Write(cpu, "cpu.cfs_period_us", "100000");
        Write(cpu, "cpu.cfs_quota_us", ((long)(settings.Cpus * 100_000)).ToString(CultureInfo.InvariantCulture));
        return new SandboxCgroup([memory, pids, cpu], v2: false);
    }

    static SandboxCgroup? CreateV2(string name, SandboxSettings settings)
    {
        var available = File.ReadAllText(Path.Combine(Root, "cgroup.controllers")).Split(' ', StringSplitOptions.TrimEntries);
        if (!new[] { "memory", "pids", "cpu" }.All(available.Contains)) return null;
        var parent = Directory.CreateDirectory(Path.Combine(Root, Parent)).FullName;
        Write(Root, "cgroup.subtree_control", "+memory +pids +cpu");
        Write(parent, "cgroup.subtree_control", "+memory +pids +cpu");
        var folder = Directory.CreateDirectory(Path.Combine(parent, name)).FullName;
        Write(folder, "memory.max", settings.MemoryBytes.ToString(CultureInfo.InvariantCulture));
        if (File.Exists(Path.Combine(folder, "memory.swap.max"))) Write(folder, "memory.swap.max", "0");
        Write(folder, "pids.max", settings.MaxProcesses.ToString(CultureInfo.InvariantCulture));
        Write(folder, "cpu.max", $"{(long)(settings.Cpus * 100_000)} 100000");
        return new SandboxCgroup([folder], v2: true);
    }

    /// <summary>Times the kernel killed a process for memory (the OOM killer) in this group so far.</summary>
    public long OomKills() => Counter(_folders[0], _v2 ? "memory.events" : "memory.oom_control", "oom_kill");

    /// <summary>Times a fork was refused at the process limit so far.</summary>
    public long ProcessLimitHits() => Counter(_v2 ? _folders[0] : _folders[1], "pids.events", "max");

    /// <summary>The processes in the group now.</summary>
    public IReadOnlyList<int> Processes() => [.. _folders.SelectMany(Members).Distinct()];

    /// <summary>SIGKILLs every process still in the group (what escaped the PID namespace's end: slirp4netns, a stuck launcher).</summary>
    public async Task KillAllAsync()
    {
        for (var round = 0; round < 100; round++)
        {
            var pids = _folders.SelectMany(Members).Distinct().ToList();
            if (pids.Count == 0) return;
            foreach (var pid in pids) kill(pid, 9);
            await Task.Delay(20);
        }
    }

    /// <summary>Kills what is left and removes the group's folders.</summary>
    public async Task RemoveAsync()
    {
        await KillAllAsync();
        foreach (var folder in _folders)
            for (var attempt = 0; attempt < 50 && Directory.Exists(folder); attempt++)
            {
                try { Directory.Delete(folder); } // rmdir: a cgroup folder's files go with it
                catch (IOException) { await Task.Delay(20); } // EBUSY while the last process is being reaped
            }
    }

    static IEnumerable<int> Members(string folder)
    {
        try
        {
            return File.ReadAllLines(Path.Combine(folder, "cgroup.procs"))
                .Select(l => int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : 0)
                .Where(pid => pid > 0).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
    }

    static long Counter(string folder, string file, string key)
    {
        try
        {
            foreach (var line in File.ReadLines(Path.Combine(folder, file)))
            {
                var parts = line.Split(' ', 2, StringSplitOptions.TrimEntries);
                if (parts.Length == 2 && parts[0] == key && long.TryParse(parts[1], CultureInfo.InvariantCulture, out var n)) return n;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return 0;
    }

    static void Write(string folder, string file, string value) => File.WriteAllText(Path.Combine(folder, file), value);

    [DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int sig);
}
