using OdooOps.Runners.Agent.Sandbox;
using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using OdooOps.Runners.Agent;
using OdooOps.Runners.Agent.Execution;
using OdooOps.Runners.Protocol;

namespace OdooOps.Cli.Host;

/// <summary>
/// `odooops runner --url URL --token T`: a build runner on this host. T is a runner token (oo_run_…), or an org
/// admin's registration token (oo_reg_…), which is exchanged for a runner token once; that token is kept in
/// &lt;work-dir&gt;/runner-token (0600) and used on the next start when --token is left out. Runs until SIGINT/SIGTERM.
/// </summary>
internal static class RunnerAgentCommand
{
    public static Command Create()
    {
        var url = new Option<string>("--url") { Description = "The OdooOps server, e.g. https://ops.example.com (env ODOOOPS_URL).", };
        var token = new Option<string?>("--token") { Description = "A runner token (oo_run_…) or registration token (oo_reg_…) (env ODOOOPS_RUNNER_TOKEN)." };
        var capacity = new Option<int>("--capacity") { Description = "Builds run at once (1–64).", DefaultValueFactory = _ => 1 };
        var labels = new Option<string?>("--labels") { Description = "Comma-separated labels of this runner (set at registration)." };
        var workDir = new Option<string?>("--work-dir") { Description = "Where builds are checked out (default ./odooops-runner)." };
        var name = new Option<string?>("--name") { Description = "The runner's name (default: this host's name)." };
        var odooBin = new Option<string?>("--odoo-bin") { Description = "Odoo's odoo-bin, to run Odoo's tests (env OPS_ODOO_BIN)." };
        var keepFailed = new Option<int>("--keep-failed") { Description = "Failed builds' workspaces to keep for inspection.", DefaultValueFactory = _ => 3 };
        var stepUser = new Option<string?>("--step-user") { Description = "Run steps as this OS user (the runner runs as root), so builds cannot read the runner's token." };
        var command = new Command("runner", "Run builds for an OdooOps server from this host.") { url, token, capacity, labels, workDir, name, odooBin, keepFailed, stepUser };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            var server = parse.GetValue(url) ?? Environment.GetEnvironmentVariable("ODOOOPS_URL")
                ?? throw new InvalidOperationException("--url is required (or ODOOOPS_URL).");
            if (!Uri.TryCreate(server, UriKind.Absolute, out var serverUri) || serverUri.Scheme is not ("http" or "https"))
                throw new InvalidOperationException($"--url: '{server}' is not an http(s) URL.");
            if (parse.GetValue(capacity) is < 1 or > 64) throw new InvalidOperationException("--capacity must be between 1 and 64.");
            if (parse.GetValue(keepFailed) is < 0 or > 1000) throw new InvalidOperationException("--keep-failed must be between 0 and 1000.");
            var dir = Path.GetFullPath(parse.GetValue(workDir) ?? "odooops-runner");
            Directory.CreateDirectory(dir);
            var options = new RunnerOptions(parse.GetValue(name) ?? Environment.MachineName, parse.GetValue(capacity),
                RunnerLabelRules.Parse(parse.GetValue(labels)), dir)
            {
                OdooBin = parse.GetValue(odooBin) ?? Environment.GetEnvironmentVariable(EmbeddedRunner.OdooBinKey),
                KeepFailedWorkspaces = parse.GetValue(keepFailed),
                StepUser = parse.GetValue(stepUser) is { Length: > 0 } user ? await StepUser.ResolveAsync(user, ct) : null,
                Sandbox = SandboxSettings.FromEnvironment(),
                AllowLocalRepositories = Projects.RepoSettings.From(new ConfigurationBuilder().AddEnvironmentVariables().Build()).AllowLocal,
                Instances = Runners.Agent.Instances.InstanceHosting.From(Environment.GetEnvironmentVariable),
            };
            using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; }));
            // Before registering: a host that cannot contain builds must not take any.
            if (await SandboxProbe.RunnerMayStartAsync(options, loggers.CreateLogger("runner"), ct) is { } refusal)
                throw new InvalidOperationException(refusal);
            var runnerToken = await ResolveTokenAsync(serverUri, parse.GetValue(token) ?? Environment.GetEnvironmentVariable("ODOOOPS_RUNNER_TOKEN"), options, ct);
            using var client = new DispatchClient(serverUri, runnerToken);
            Console.WriteLine($"Runner {options.Name} serving {serverUri} (capacity {options.Capacity}, work dir {dir}). Ctrl+C stops it.");
            // SIGTERM (systemd, docker stop) and Ctrl+C stop the runner gracefully: running builds' steps get SIGTERM
            // and their grace period, their workspaces are cleaned up, and the builds are handed back (jobs/{id}/release).
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            void Stop(PosixSignalContext signal)
            {
                signal.Cancel = true;
                Console.WriteLine($"{signal.Signal}: stopping; running builds are handed back.");
                stop.Cancel();
            }
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
            await new RunnerAgent(client, options, loggers.CreateLogger("runner")).RunAsync(stop.Token);
            return 0;
        }));
        return command;
    }

    static async Task<string> ResolveTokenAsync(Uri server, string? given, RunnerOptions options, CancellationToken ct)
    {
        var saved = Path.Combine(options.WorkDir, "runner-token");
        if (given is null)
            return File.Exists(saved) ? (await File.ReadAllTextAsync(saved, ct)).Trim()
                : throw new InvalidOperationException("--token is required (a runner token, or a registration token to register this runner).");
        if (given.StartsWith(RunnerProtocol.RunnerTokenPrefix, StringComparison.Ordinal)) return given;
        if (!given.StartsWith(RunnerProtocol.RegistrationTokenPrefix, StringComparison.Ordinal))
            throw new InvalidOperationException("--token must be a runner token (oo_run_…) or a registration token (oo_reg_…).");
        // A service definition that keeps the registration token must not register a new runner at every start.
        if (File.Exists(saved))
        {
            Console.WriteLine($"Already registered: using the runner token kept in {saved} (delete it to register again).");
            return (await File.ReadAllTextAsync(saved, ct)).Trim();
        }

        var registered = await DispatchClient.RegisterAsync(server, new RunnerProtocol.RegisterRequest(given, options.Name, options.Labels, options.Capacity,
            typeof(RunnerAgentCommand).Assembly.GetName().Version?.ToString()), ct);
        // Created 0600 in one step: no moment in which another local user could open it.
        await using (var file = new FileStream(saved, new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        await using (var writer = new StreamWriter(file))
            await writer.WriteAsync(registered.Token + "\n");
        Console.WriteLine($"Registered as runner {registered.RunnerId}; its token is kept in {saved}.");
        return registered.Token;
    }
}
