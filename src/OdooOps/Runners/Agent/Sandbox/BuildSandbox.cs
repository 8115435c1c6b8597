using System.Globalization;
using OdooOps.Database;

namespace OdooOps.Runners.Agent.Sandbox;

/// <summary>
/// The sandbox of one build, for all its processes (git and every step): a uid of its own for the build's lifetime
/// (leased from <see cref="SandboxSettings.FirstUid"/>…, so two builds running at once never share one), a cgroup
/// with its limits, and a private HOME kept across its steps (/tmp is each process's own). Ending it kills whatever is
/// left and frees the uid.
/// The runner must be root (<see cref="SandboxProbe"/> refuses to start otherwise). A host without writable cgroups
/// (some containers) bounds builds by a per-uid process limit and their timeout only; <see cref="Limits"/> says so.
/// </summary>
internal sealed class BuildSandbox : IAsyncDisposable
{
    public const string Home = "/home/odooops";
    const string UserName = "odooops";

    readonly SandboxSettings _settings;
    readonly SandboxUids.Lease _uid;
    readonly SandboxCgroup? _cgroup;
    SandboxNetwork? _network;
    readonly string _root, _control;
    int _runs;

    BuildSandbox(SandboxSettings settings, SandboxUids.Lease uid, SandboxCgroup? cgroup, string root, string limits)
    {
        (_settings, _uid, _cgroup, _root, Limits) = (settings, uid, cgroup, root, limits);
        _control = Path.Combine(root, "control");
    }

    /// <summary>The uid the build runs as.</summary>
    public int Uid => _uid.Uid;

    /// <summary>One line for the build log: uid and limits.</summary>
    public string Limits { get; }

    public static async Task<BuildSandbox> CreateAsync(SandboxSettings settings, SandboxUids uids, string workDir, Guid buildId,
        CancellationToken ct, SandboxHosting? hosting = null)
    {
        var root = Path.Combine(Path.GetFullPath(workDir), "sandboxes", buildId.ToString("D"));
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true); // an earlier attempt's
        if (!Environment.IsPrivilegedProcess) throw new InvalidOperationException(SandboxProbe.NeedsRoot);
        var uid = uids.Acquire(hosting?.UidKey);
        var cgroup = SandboxCgroup.TryCreate(buildId.ToString("N"), settings, out var noCgroup);
        var limits = cgroup is not null
            ? $"memory {settings.MemoryBytes >> 20} MiB, {settings.MaxProcesses} processes, {settings.Cpus.ToString(CultureInfo.InvariantCulture)} CPUs"
            : $"{settings.MaxProcesses} processes and the build's timeout only ({noCgroup})";
        var sandbox = new BuildSandbox(settings, uid, cgroup,
            root, $"Sandbox: uid {uid.Uid.ToString(CultureInfo.InvariantCulture)}, {limits}");
        try
        {
            await sandbox.PrepareAsync(ct);
            // Every build fetches: its network is made once, for git and for the steps the project lets go out.
            sandbox._network = await SandboxNetwork.StartAsync(cgroup?.ProcsFiles ?? [], Path.Combine(sandbox._control, "network"), ct,
                hosting?.Ports ?? []);
            return sandbox;
        }
        catch
        {
            await sandbox.DisposeAsync();
            throw;
        }
    }

    async Task PrepareAsync(CancellationToken ct)
    {
        const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        foreach (var dir in new[] { _root, _control, HostHome })
        {
            Directory.CreateDirectory(dir);
            File.SetUnixFileMode(dir, Private);
        }
        // The build's uid has no account on the host: its own passwd and group files name it (ssh, git and pip ask).
        var id = Uid.ToString(CultureInfo.InvariantCulture);
        await File.WriteAllTextAsync(Path.Combine(_control, "passwd"),
            $"root:x:0:0:root:/root:/usr/sbin/nologin\n{UserName}:x:{id}:{id}:OdooOps build:{Home}:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n", ct);
        await File.WriteAllTextAsync(Path.Combine(_control, "group"), $"root:x:0:\n{UserName}:x:{id}:\nnogroup:x:65534:\n", ct);
        // slirp4netns answers DNS at 10.0.2.3 (the host's resolver may listen on a loopback the sandbox cannot reach).
        await File.WriteAllTextAsync(Path.Combine(_control, "resolv.conf"), "nameserver 10.0.2.3\n", ct);
        foreach (var file in new[] { "passwd", "group", "resolv.conf" })
            File.SetUnixFileMode(Path.Combine(_control, file), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        await OwnAsync([HostHome], ct);
    }

    string HostHome => Path.Combine(_root, "home");

    /// <summary>Hands <paramref name="directory"/> (the empty workspace, before git runs in it) to the build's uid.</summary>
    public Task OwnAsync(string directory, CancellationToken ct) => OwnAsync([directory], ct);

    async Task OwnAsync(string[] directories, CancellationToken ct)
    {
        var chown = await ProcessRunner.RunAsync("chown", ["-R", "--", $"{Uid}:{Uid}", .. directories], null, ct);
        if (chown.ExitCode != 0) throw new IOException($"Could not hand {string.Join(", ", directories)} to uid {Uid}: {chown.Describe()}");
    }

    readonly List<(string Source, string Target)> _binds = [];

    /// <summary>Host files every later process of this sandbox sees read-only at another path (the database's socket).</summary>
    public void AlsoBind(IEnumerable<(string Source, string Target)> binds) => _binds.AddRange(binds);

    readonly List<string> _writable = [];

    /// <summary>A host folder every later process of this sandbox may write, at the same path (the instance's filestore).</summary>
    public void AlsoBindWritable(string folder) => _writable.Add(folder);

    /// <summary>Hands a folder kept across sandboxes (an instance's filestore) to this sandbox's uid, when it is another's.</summary>
    public async Task OwnIfNeededAsync(string directory, CancellationToken ct)
    {
        var stat = await ProcessRunner.RunAsync("stat", ["-c", "%u", "--", directory], null, ct);
        if (stat.ExitCode == 0 && stat.Output.Trim() == Uid.ToString(CultureInfo.InvariantCulture)) return;
        await OwnAsync([directory], ct);
        File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>
    /// Writes a file into the build's HOME, 0600 and owned by the build's uid; returns its path on the host and as the
    /// sandbox sees it.
    /// </summary>
    public async Task<(string HostPath, string SandboxPath)> WriteHomeFileAsync(string relative, string content, CancellationToken ct)
    {
        var host = Path.Combine(HostHome, relative);
        var folder = Path.GetDirectoryName(host)!;
        Directory.CreateDirectory(folder);
        File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.Delete(host);
        await using (var file = new FileStream(host, new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
            await file.WriteAsync(System.Text.Encoding.UTF8.GetBytes(content), ct);
        await OwnAsync([folder], ct);
        return (host, $"{Home}/{relative}");
    }

    /// <summary>
    /// The launch of one process in this sandbox: <paramref name="network"/> false leaves it the loopback only;
    /// <paramref name="readOnly"/> host paths it may read besides the system (a local repository to fetch from).
    /// </summary>
    public SandboxRun Run(string workspace, bool network, IReadOnlyList<string>? readOnly = null) =>
        new(this, workspace, network, readOnly ?? []);

    internal (List<string> Argv, IReadOnlyDictionary<string, string> Environment, string Control) Launch(SandboxRun run, string program,
        IReadOnlyList<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string> environment)
    {
        var control = Path.Combine(_control, $"run-{Interlocked.Increment(ref _runs)}");
        var bwrap = new List<string>
        {
            "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "odooops-build", "--clearenv",
        };
        // With network, the launcher enters the build's namespace (configured before anything entered it); without, a
        // namespace of its own with a loopback only.
        if (!run.Network) bwrap.Add("--unshare-net");
        foreach (var (name, value) in environment) bwrap.AddRange(["--setenv", name, value]);
        bwrap.AddRange(["--setenv", "HOME", Home, "--setenv", "TMPDIR", "/tmp", "--setenv", "USER", UserName, "--setenv", "LOGNAME", UserName]);
        foreach (var path in _settings.SystemPaths)
        {
            var info = new FileInfo(path);
            if (info.LinkTarget is { } target) bwrap.AddRange(["--symlink", target, path]);
            else if (Directory.Exists(path)) bwrap.AddRange(["--ro-bind", path, path]);
        }
        // /etc: an empty folder with the allowed entries only, and the sandbox's own passwd, group and resolv.conf.
        bwrap.AddRange(["--perms", "0755", "--dir", "/etc"]);
        foreach (var entry in _settings.EtcEntries)
        {
            var path = Path.Combine("/etc", entry);
            if (new FileInfo(path).LinkTarget is { } target && !Path.IsPathRooted(target)) bwrap.AddRange(["--symlink", target, path]);
            else if (File.Exists(path) || Directory.Exists(path))
            {
                if (entry.Contains('/')) bwrap.AddRange(["--perms", "0755", "--dir", Path.GetDirectoryName(path)!]);
                bwrap.AddRange(["--ro-bind", path, path]);
            }
        }
        bwrap.AddRange(["--ro-bind", Path.Combine(_control, "passwd"), "/etc/passwd", "--ro-bind", Path.Combine(_control, "group"), "/etc/group"]);
        if (run.Network) bwrap.AddRange(["--ro-bind", Path.Combine(_control, "resolv.conf"), "/etc/resolv.conf"]);
        // /tmp first: the folders below may lie under the host's /tmp, and their mount points must then be made in
        // the sandbox's own /tmp (a tmpfs, gone with the step), not hidden by it.
        bwrap.AddRange(["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp"]);
        var made = new HashSet<string>(StringComparer.Ordinal) { "/tmp" };
        Mount(bwrap, made, "--bind", HostHome, Home);
        foreach (var path in _settings.ExtraReadOnlyPaths.Concat(run.ReadOnly).Where(p => Directory.Exists(p) || File.Exists(p)))
            Mount(bwrap, made, "--ro-bind", path, path);
        foreach (var (source, target) in _binds.Concat(run.Binds)) Mount(bwrap, made, "--ro-bind", source, target);
        foreach (var folder in _writable) Mount(bwrap, made, "--bind", folder, folder);
        Mount(bwrap, made, "--bind", run.Workspace, run.Workspace);
        bwrap.AddRange(["--chdir", workingDirectory]);
        if (SandboxSeccomp.Filter() is { } filter)
        {
            SandboxLauncher.WriteBytes(control + ".seccomp", filter);
            bwrap.AddRange(["--seccomp", "6"]);
        }
        SandboxLauncher.WriteArguments(control + ".args", bwrap);

        var argv = new List<string>
        {
            "/bin/sh", "-c", SandboxLauncher.Script, "odooops-sandbox",
            run.Network ? $"{_network!.Holder} {_network.Id}" : "",
            string.Join(':', _cgroup?.ProcsFiles ?? []),
            _cgroup is null ? _settings.MaxProcesses.ToString(CultureInfo.InvariantCulture) : "",
            control, _settings.BwrapProgram, "--",
            // The program starts as the build's uid, with no capability left and no way to gain one (setuid binaries).
            "/usr/bin/setpriv", $"--reuid={Uid}", $"--regid={Uid}", "--clear-groups", "--no-new-privs",
            "--bounding-set=-all", "--inh-caps=-all", "--", program,
        };
        argv.AddRange(arguments);
        // The launcher is root: it gets a fixed environment, nothing of the step's.
        return (argv, new Dictionary<string, string> { ["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin", ["LC_ALL"] = "C" }, control);
    }

    /// <summary>
    /// Binds <paramref name="source"/> at <paramref name="target"/>, first making the folders above it that the
    /// sandbox does not have (bubblewrap would make them 0700, closed to the build's uid) readable by all.
    /// </summary>
    void Mount(List<string> bwrap, HashSet<string> made, string how, string source, string target)
    {
        var ancestors = new List<string>();
        for (var dir = Path.GetDirectoryName(target); dir is not null && dir != "/"; dir = Path.GetDirectoryName(dir))
            ancestors.Add(dir);
        ancestors.Reverse();
        foreach (var dir in ancestors)
        {
            if (_settings.SystemPaths.Any(system => dir == system || dir.StartsWith(system + "/", StringComparison.Ordinal))) continue;
            if (made.Add(dir)) bwrap.AddRange(["--perms", "0755", "--dir", dir]);
        }
        bwrap.AddRange([how, source, target]);
    }

    /// <summary>Removes a run's control files (its argument file holds the step's secrets).</summary>
    internal static void Forget(string control)
    {
        foreach (var suffix in new[] { ".args", ".seccomp" }) File.Delete(control + suffix);
    }

    /// <summary>The processes in the sandbox now (its cgroups'; none without cgroups).</summary>
    public IReadOnlyList<int> Processes() => _cgroup?.Processes() ?? [];

    /// <summary>Counters to tell, after a process ended, whether a limit killed it.</summary>
    public (long OomKills, long ProcessLimitHits) Counters() => (_cgroup?.OomKills() ?? 0, _cgroup?.ProcessLimitHits() ?? 0);

    /// <summary>Why the process that ran between <paramref name="before"/> and now failed, when a limit is the reason; else null.</summary>
    public string? LimitReached((long OomKills, long ProcessLimitHits) before)
    {
        var now = Counters();
        if (now.OomKills > before.OomKills) return $"killed for memory: the build's limit of {_settings.MemoryBytes >> 20} MiB was reached";
        if (now.ProcessLimitHits > before.ProcessLimitHits) return $"the build's limit of {_settings.MaxProcesses} processes was reached";
        return null;
    }

    /// <summary>
    /// Kills what the build left running, removes its HOME and control files and frees the uid. A kept failed
    /// workspace stays the build's uid's, inside the runner's 0700 builds folder: no later build sees it (each binds its
    /// own), and git run there by root refuses a repository of another owner rather than obey its config
    /// (core.fsmonitor, hooks) as root. Safe to call twice.
    /// </summary>
    public async Task EndAsync()
    {
        if (_network is not null) await _network.DisposeAsync();
        _network = null;
        if (_cgroup is not null) await _cgroup.RemoveAsync();
        if (Directory.Exists(_root)) Execution.WorkspaceFolder.Delete(_root);
        _uid.Dispose();
    }

    public async ValueTask DisposeAsync() => await EndAsync();
}
