using System.Globalization;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Runners.Agent.Execution;
using OdooOps.Runners.Agent.Sandbox;
using OdooOps.Runners.Dispatch;
using OdooOps.Runners.Protocol;

namespace OdooOps.Runners.Agent;

/// <summary>
/// The runner `odooops serve` starts in-process (OPS_RUNNERS builds at once, default 1; `serve --runners 0` turns it
/// off). It is an ordinary <see cref="RunnerAgent"/> that reaches this server over loopback HTTP, so there is one code
/// path for local and remote runners. It registers itself as a shared runner named after the host, with a fresh token
/// at every start (only the token's hash is stored); once an admin has disabled it, it stays off across restarts.
/// It stops before the server does (<see cref="StoppingAsync"/>), so its builds are handed back while the server answers.
/// </summary>
internal sealed class EmbeddedRunner(IHostApplicationLifetime lifetime, IServer server, OpsDatabase database, IConfiguration config,
    ILogger<EmbeddedRunner> log) : BackgroundService, IHostedLifecycleService
{
    public const string CapacityKey = "OPS_RUNNERS";
    public const string WorkDirKey = "OPS_RUNNER_WORK_DIR";
    public const string OdooBinKey = "OPS_ODOO_BIN";
    public const string StepUserKey = "OPS_RUNNER_STEP_USER";

    public static int Capacity(IConfiguration config)
    {
        var text = config[CapacityKey];
        if (string.IsNullOrWhiteSpace(text)) return 1;
        return int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 0 and <= 64
            ? n
            : throw new InvalidOperationException($"{CapacityKey}: '{text}' is not a number of builds from 0 (no embedded runner) to 64.");
    }

    /// <summary>
    /// The host calls every service's StoppingAsync before it stops any of them, Kestrel included (whose StopAsync would
    /// otherwise run first: it was registered first). So the runner stops here, kills its steps within their grace and
    /// hands its builds back (jobs/{id}/release) over loopback to a server that still answers; then the server stops,
    /// then `serve` stops the embedded cluster. Bounded by the host's shutdown timeout (30 s).
    /// </summary>
    public Task StoppingAsync(CancellationToken cancellationToken) => StopAsync(cancellationToken);

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    protected override async Task ExecuteAsync(CancellationToken serviceStopping)
    {
        // SIGINT/SIGTERM raise ApplicationStopping before the host stops its services: from then on the server answers
        // held polls at once (RunnerDispatchApi), so the runner must stop polling right away rather than claim more builds.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(serviceStopping, lifetime.ApplicationStopping);
        var stopping = stop.Token;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stopping.Register(() => started.TrySetCanceled()))
        {
            try { await started.Task; } catch (OperationCanceledException) { return; }
        }
        var url = LoopbackUrl(server.Features.Get<IServerAddressesFeature>()?.Addresses ?? []);
        if (url is null)
        {
            log.LogWarning("The embedded runner found no http(s) address of this server to reach over loopback; it does not start.");
            return;
        }
        var options = new RunnerOptions($"{Environment.MachineName} (embedded)", Capacity(config), [],
            config[WorkDirKey] is { Length: > 0 } dir ? dir : Path.Combine(Path.GetTempPath(), "odooops-runner"))
        {
            OdooBin = config[OdooBinKey],
            // Checked at start-up (ServeCommand), so a wrong user stops serve with one line instead of failing builds.
            StepUser = config[StepUserKey] is { Length: > 0 } user ? await Execution.StepUser.ResolveAsync(user, stopping) : null,
            Sandbox = SandboxSettings.From(key => config[key]),
            AllowLocalRepositories = Projects.RepoSettings.From(config).AllowLocal,
            Instances = Instances.InstanceHosting.From(key => config[key]),
        };
        if (await SandboxProbe.RunnerMayStartAsync(options, log, stopping) is { } refusal)
        {
            log.LogError("The embedded runner takes no builds. {Refusal}", refusal);
            return;
        }
        var token = AccessTokens.Create(RunnerProtocol.RunnerTokenPrefix);
        await using (var conn = await database.Service.OpenConnectionAsync(stopping))
        {
            var (id, disabled) = await DispatchStore.StartEmbeddedAsync(conn, options.Name, options.Capacity, [], Version(), AccessTokens.Hash(token));
            if (disabled)
            {
                log.LogWarning("The embedded runner {Name} ({Id}) is disabled by an admin; it does not start (enable it to run builds here).", options.Name, id);
                return;
            }
        }
        using var client = new DispatchClient(url, token, url.Scheme == Uri.UriSchemeHttps ? TrustingOwnCertificate() : null);
        await new RunnerAgent(client, options, log).RunAsync(stopping);
    }

    static string Version() => typeof(EmbeddedRunner).Assembly.GetName().Version?.ToString() ?? "dev";

    /// <summary>
    /// The address to reach this server at: the first http one, else the first https one (a server bound to https
    /// only), with a wildcard host replaced by the loopback address.
    /// </summary>
    internal static Uri? LoopbackUrl(IEnumerable<string> addresses)
    {
        var candidates = addresses
            .Select(a => a.Replace("://+:", "://127.0.0.1:").Replace("://*:", "://127.0.0.1:")
                          .Replace("://0.0.0.0:", "://127.0.0.1:").Replace("://[::]:", "://127.0.0.1:"))
            .Select(a => Uri.TryCreate(a, UriKind.Absolute, out var uri) ? uri : null)
            .OfType<Uri>()
            .ToList();
        return candidates.FirstOrDefault(u => u.Scheme == Uri.UriSchemeHttp) ?? candidates.FirstOrDefault(u => u.Scheme == Uri.UriSchemeHttps);
    }

    /// <summary>
    /// Over https the runner talks to its own process, on this host: the certificate is issued for the server's public
    /// name, not for 127.0.0.1, so it is not checked (nothing else can listen on the port this server holds).
    /// </summary>
    static SocketsHttpHandler TrustingOwnCertificate() => new()
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
    };
}
