using System.Globalization;
using System.Text.RegularExpressions;
using OdooOps.Runners.Agent.Execution;
using OdooOps.Runners.Agent.Pipeline;
using OdooOps.Runners.Agent.Sandbox;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Runners.Agent.Instances;

/// <summary>
/// Everything one instance's server starts with: its release (read-only), its data dir (the filestore, under the
/// branch's folder, kept across releases), its two ports, its database (ensured before each start) and the odoo-bin
/// command line. A real Odoo and the tests' stand-in are started by this same code.
/// </summary>
internal sealed class InstanceLaunch
{
    readonly RunnerOptions _options;
    readonly SandboxUids _uids;
    static readonly HttpClient Health = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
        { Timeout = Timeout.InfiniteTimeSpan }; // each check has the hosting's own timeout

    public InstanceLaunch(InstanceSpec spec, RunnerOptions options, SandboxUids uids, int httpPort, int geventPort, LogBatcher logs)
    {
        (Spec, _options, _uids, HttpPort, GeventPort, Logs) = (spec, options, uids, httpPort, geventPort, logs);
        ReleaseDir = Releases.Folder(options.WorkDir, spec.BuildId);
        DataDir = DataDirOf(options.WorkDir, spec);
    }

    /// <summary>
    /// The filestore's folder: production's is the branch's, kept across releases (they share the database);
    /// a development or staging database has its own, deleted with it (a rollback's instance runs on its predecessor's
    /// database, so it takes its filestore too).
    /// </summary>
    public static string DataDirOf(string workDir, InstanceSpec spec)
    {
        // An older runner named a development or staging folder after its instance; such a folder is still used.
        var byInstance = DataDirOf(workDir, spec.BranchId, spec.Stage, spec.InstanceId.ToString("D"));
        return spec.Stage != "production" && Directory.Exists(byInstance) ? byInstance : DataDirOf(workDir, spec.BranchId, spec.Stage, spec.DatabaseName);
    }

    /// <summary><paramref name="database"/>: the development or staging database the folder goes with (unused for production).</summary>
    public static string DataDirOf(string workDir, Guid branchId, string stage, string database) =>
        Path.Combine(Path.GetFullPath(workDir), "instances", branchId.ToString("D"), stage == "production" ? "data" : database);

    public InstanceSpec Spec { get; }
    bool Production => Spec.Stage == "production";
    public InstanceHosting Hosting => _options.Instances;
    public int HttpPort { get; }
    public int GeventPort { get; }
    public LogBatcher Logs { get; }
    public RequestStats Requests { get; } = new();
    public string ReleaseDir { get; }
    public string DataDir { get; }
    public IReadOnlyList<(string Source, string Target)> Binds => Hosting.Database?.SocketBinds ?? [];

    /// <summary>Odoo 16 and later answer /web/health; older ones are asked for their login page.</summary>
    public string HealthPath => MajorVersion(Spec.OdooVersion) >= 16 ? "/web/health" : "/web/login";

    static int MajorVersion(string version)
    {
        var digits = version.StartsWith("saas-", StringComparison.Ordinal) ? version[5..] : version;
        return int.TryParse(digits.Split('.')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var major) ? major : 0;
    }

    /// <summary>The sandbox (a new one per life of the server) and the database; null sandbox when the runner runs unsandboxed.</summary>
    public async Task<BuildSandbox?> PrepareAsync(CancellationToken ct)
    {
        if (_options.OdooBin is not { Length: > 0 }) throw new InvalidOperationException($"Odoo is not installed on this runner ({EmbeddedRunner.OdooBinKey}).");
        if (Hosting.Database is not { } database)
            throw new InvalidOperationException($"No database server for Odoo is configured on this runner ({OdooDatabaseServer.ConnectionKey}).");
        if (!Directory.Exists(ReleaseDir)) throw new InvalidOperationException($"The release of build {Spec.BuildId} is not on this runner any more.");
        Directory.CreateDirectory(DataDir);
        await database.EnsureDatabaseAsync(Spec.ProjectId, Production, Spec.DatabaseName, ct);
        if (!_options.Sandbox.Enabled) return null;
        var settings = _options.Sandbox with
        {
            MemoryBytes = (long)Spec.MemoryMb << 20,
            Cpus = (double)Spec.Cpus,
            ExtraReadOnlyPaths = [.. _options.Sandbox.ExtraReadOnlyPaths, Path.GetDirectoryName(Path.GetFullPath(_options.OdooBin))!],
        };
        var sandbox = await BuildSandbox.CreateAsync(settings, _uids, _options.WorkDir, Spec.InstanceId, ct,
            new SandboxHosting(Spec.BranchId, [new(Hosting.BindAddress, HttpPort, HttpPort), new(Hosting.BindAddress, GeventPort, GeventPort)]));
        try { await sandbox.OwnIfNeededAsync(DataDir, ct); }
        catch
        {
            await sandbox.EndAsync();
            throw;
        }
        return sandbox;
    }

    /// <summary>odoo-bin with this instance's options, run from its release, its secrets and database password in variables.</summary>
    public ProcessCommand Command()
    {
        var addons = AddonsPath(_options.OdooBin!, ReleaseDir);
        var sandboxed = _options.Sandbox.Enabled;
        var arguments = new List<string>
        {
            "--http-port", HttpPort.ToString(CultureInfo.InvariantCulture),
            MajorVersion(Spec.OdooVersion) >= 16 ? "--gevent-port" : "--longpolling-port", GeventPort.ToString(CultureInfo.InvariantCulture),
            // In its own network namespace the server listens on all of that namespace's addresses (the forwarded
            // ports reach it there); unsandboxed it shares the host's, and listens where the proxy is only.
            "--http-interface", sandboxed ? "0.0.0.0" : Hosting.BindAddress,
            "--database", Spec.DatabaseName, "--db-filter", "^" + Regex.Escape(Spec.DatabaseName) + "$", "--no-database-list",
            "--data-dir", DataDir, "--proxy-mode",
            "--workers", Spec.Workers.ToString(CultureInfo.InvariantCulture),
            "--max-cron-threads", Spec.CronThreads.ToString(CultureInfo.InvariantCulture),
        };
        if (addons.Count > 0) arguments.AddRange(["--addons-path", string.Join(',', addons)]);
        var env = new Dictionary<string, string>(Spec.Env)
        {
            ["ODOOOPS_INSTANCE_ID"] = Spec.InstanceId.ToString(), ["ODOOOPS_BUILD_ID"] = Spec.BuildId.ToString(),
            ["ODOOOPS_PROJECT"] = Spec.ProjectSlug, ["ODOOOPS_BRANCH"] = Spec.Branch, ["ODOOOPS_STAGE"] = Spec.Stage,
        };
        if (Spec.BaseUrl is { } url) env["ODOOOPS_URL"] = url;
        foreach (var (name, value) in Hosting.Database!.OdooEnvironment(Spec.ProjectId, Production)) env[name] = value;
        return new ProcessCommand(_options.OdooBin!, arguments, ReleaseDir) { Environment = env };
    }

    /// <summary>The folders of a release's modules, after Odoo's own addons folder when its tree has one (a git checkout).</summary>
    public static List<string> AddonsPath(string odooBin, string releaseDir)
    {
        var addons = AddonFinder.Find(releaseDir).Modules
            .Select(m => m.Path.Contains('/') ? Path.Combine(releaseDir, m.Path[..m.Path.LastIndexOf('/')]) : releaseDir)
            .Distinct().Order(StringComparer.Ordinal).ToList();
        var odooAddons = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(odooBin))!, "addons");
        if (Directory.Exists(odooAddons)) addons.Insert(0, odooAddons);
        return addons;
    }

    /// <summary>One health check: an answer below 500 on the health path within the client's timeout.</summary>
    public async Task<bool> HealthyAsync(CancellationToken ct)
    {
        var host = Hosting.BindAddress is "0.0.0.0" or "::" ? "127.0.0.1" : Hosting.BindAddress;
        using var within = CancellationTokenSource.CreateLinkedTokenSource(ct);
        within.CancelAfter(Hosting.HealthTimeout);
        try
        {
            using var response = await Health.GetAsync($"http://{host}:{HttpPort}{HealthPath}", HttpCompletionOption.ResponseHeadersRead, within.Token);
            return (int)response.StatusCode < 500;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested) { return false; }
    }
}
