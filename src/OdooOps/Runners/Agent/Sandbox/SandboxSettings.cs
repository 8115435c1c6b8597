using System.Globalization;

namespace OdooOps.Runners.Agent.Sandbox;

/// <summary>
/// How a runner contains the builds it runs (docs/security.md, "The build sandbox"). Read from the environment by
/// `serve` (embedded runner) and `odooops runner` alike, so both behave the same.
/// </summary>
public sealed record SandboxSettings
{
    public const string UnsandboxedKey = "OPS_RUNNER_UNSANDBOXED";
    public const string UidsKey = "OPS_SANDBOX_UIDS";
    public const string MemoryKey = "OPS_SANDBOX_MEMORY_MB";
    public const string ProcessesKey = "OPS_SANDBOX_MAX_PROCESSES";
    public const string CpusKey = "OPS_SANDBOX_CPUS";
    public const string ReadOnlyPathsKey = "OPS_SANDBOX_RO_PATHS";
    public const string LockDirKey = "OPS_SANDBOX_LOCK_DIR";
    public const string BwrapKey = "OPS_SANDBOX_BWRAP";

    /// <summary>False only with OPS_RUNNER_UNSANDBOXED=1: steps run as the runner's own user (a single-user laptop).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>The uids builds run as, one per build at a time; never a uid of a real account.</summary>
    public int FirstUid { get; init; } = 900_000_000;
    public int UidCount { get; init; } = 65_536;

    public long MemoryBytes { get; init; } = 4096L << 20;
    public int MaxProcesses { get; init; } = 1024;
    public double Cpus { get; init; } = 2;

    /// <summary>
    /// What a step sees of the host, read-only: the system (programs, libraries). Missing ones are skipped; /bin, /lib…
    /// that are symlinks into /usr stay symlinks. Not /etc nor /opt as a whole: units, service settings and keys live
    /// there (a runner's registration token in a unit file, serve's certificate) — see <see cref="EtcEntries"/>.
    /// </summary>
    public IReadOnlyList<string> SystemPaths { get; init; } =
        ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];

    /// <summary>
    /// The entries of /etc a build sees (those that exist): what programs need to run, resolve names and check
    /// certificates. passwd, group and resolv.conf are the sandbox's own.
    /// </summary>
    public IReadOnlyList<string> EtcEntries { get; init; } =
    [
        "alternatives", "ca-certificates", "ca-certificates.conf", "ssl", "pki", "ld.so.cache", "ld.so.conf", "ld.so.conf.d",
        "nsswitch.conf", "hosts", "host.conf", "gai.conf", "networks", "protocols", "services", "localtime", "timezone",
        "locale.alias", "locale.conf", "mime.types", "magic", "os-release", "debian_version", "lsb-release", "inputrc",
        "bash.bashrc", "profile", "gitconfig", "python3", "python3.11", "python3.12", "python3.13", "pip.conf",
        "fonts", "xml", "sgml", "java-17-openjdk", "ssh/ssh_config", "ssh/ssh_known_hosts", "wgetrc", "npmrc",
    ];

    /// <summary>Further host folders a step may read (a shared Odoo source tree, a Python installation…).</summary>
    public IReadOnlyList<string> ExtraReadOnlyPaths { get; init; } = [];

    /// <summary>bubblewrap's program (OPS_SANDBOX_BWRAP: a build of its own elsewhere).</summary>
    public string BwrapProgram { get; init; } = "bwrap";

    /// <summary>Where uid leases are locked: shared by every runner process of the host, so two never pick the same uid.</summary>
    public string LockDirectory { get; init; } = Directory.Exists("/run/lock") ? "/run/lock/odooops-sandbox" : "/tmp/odooops-sandbox-locks";

    /// <summary>The settings from <paramref name="get"/> (an environment or configuration lookup); one-line errors.</summary>
    internal static SandboxSettings From(Func<string, string?> get)
    {
        var settings = new SandboxSettings();
        if (get(UnsandboxedKey) is { Length: > 0 } off)
            settings = settings with
            {
                Enabled = off.Trim() switch
                {
                    "1" or "true" => false,
                    "0" or "false" => true,
                    _ => throw new InvalidOperationException($"{UnsandboxedKey}: '{off}' is not 1 or 0."),
                },
            };
        if (get(UidsKey) is { Length: > 0 } uids)
        {
            var parts = uids.Split('-', 2, StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var first)
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var last) || first < 10_000 || last < first)
                throw new InvalidOperationException($"{UidsKey}: '{uids}' is not a range FIRST-LAST of uids from 10000 up.");
            settings = settings with { FirstUid = first, UidCount = last - first + 1 };
        }
        if (get(MemoryKey) is { Length: > 0 } memory)
            settings = settings with { MemoryBytes = (long)Whole(MemoryKey, memory, 32, 1 << 24) << 20 };
        if (get(ProcessesKey) is { Length: > 0 } processes)
            settings = settings with { MaxProcesses = Whole(ProcessesKey, processes, 16, 1 << 22) };
        if (get(CpusKey) is { Length: > 0 } cpus)
            settings = settings with
            {
                Cpus = double.TryParse(cpus, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var c) && c is >= 0.1 and <= 1024
                    ? c
                    : throw new InvalidOperationException($"{CpusKey}: '{cpus}' is not a number of CPUs from 0.1 to 1024."),
            };
        if (get(ReadOnlyPathsKey) is { Length: > 0 } paths)
        {
            var list = paths.Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (list.FirstOrDefault(p => !Path.IsPathRooted(p)) is { } relative)
                throw new InvalidOperationException($"{ReadOnlyPathsKey}: '{relative}' is not an absolute path.");
            settings = settings with { ExtraReadOnlyPaths = list };
        }
        if (get(LockDirKey) is { Length: > 0 } locks) settings = settings with { LockDirectory = locks };
        if (get(BwrapKey) is { Length: > 0 } bwrap) settings = settings with { BwrapProgram = bwrap };
        return settings;
    }

    internal static SandboxSettings FromEnvironment() => From(Environment.GetEnvironmentVariable);

    static int Whole(string key, string text, int min, int max) =>
        int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new InvalidOperationException($"{key}: '{text}' is not a whole number from {min} to {max}.");
}
