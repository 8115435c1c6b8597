using System.CommandLine;
using OdooOps.Configuration;
using OdooOps.Database;
using OdooOps.Secrets;
using OdooOps.Seed;
using OdooOps.Server;
using OdooOps.Cli.Admin;

namespace OdooOps.Cli.Host;

/// <summary>`odooops serve`: database (embedded unless configured), migrations, then the web host until SIGINT/SIGTERM.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var urls = new Option<string?>("--urls") { Description = $"Address to listen on (default {ServerApp.DefaultUrls}; env ASPNETCORE_URLS)." };
        var url = CliCommon.DatabaseUrlOption();
        var dataDir = CliCommon.DataDirOption();
        var demo = new Option<bool>("--seed-demo") { Description = "Load the demo organisation on first start (same as `odooops seed --demo`)." };
        var runners = new Option<int?>("--runners")
        {
            Description = "Builds the embedded runner runs at once (default 1; 0: no embedded runner, builds wait for `odooops runner` hosts; env OPS_RUNNERS).",
        };
        var command = new Command("serve", "Run the OdooOps server: API, console, scheduler and an embedded build runner.") { urls, url, dataDir, demo, runners };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            var config = CliCommon.Configuration(parse, url, dataDir);
            if (parse.GetValue(runners) is { } n) config[Runners.Agent.EmbeddedRunner.CapacityKey] = n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (string.IsNullOrEmpty(config[Runners.Agent.EmbeddedRunner.WorkDirKey]))
                config[Runners.Agent.EmbeddedRunner.WorkDirKey] = Path.Combine(OpsConfiguration.ResolveDataDir(config), "runner");
            if (config[Runners.Agent.EmbeddedRunner.StepUserKey] is { Length: > 0 } stepUser && Runners.Agent.EmbeddedRunner.Capacity(config) > 0)
                await Runners.Agent.Execution.StepUser.ResolveAsync(stepUser, ct); // a wrong user stops serve here, in one line
            if (Runners.Agent.EmbeddedRunner.Capacity(config) > 0)
                Runners.Agent.Sandbox.SandboxSettings.From(key => config[key]); // a bad OPS_SANDBOX_* stops serve here, in one line
            // The demo projects build from folders in the data dir; an explicit OPS_ALLOW_LOCAL_REPOS=0 still wins.
            if (parse.GetValue(demo) && string.IsNullOrWhiteSpace(config[Projects.RepoSettings.AllowLocalKey])) config[Projects.RepoSettings.AllowLocalKey] = "1";
            var listen = parse.GetValue(urls) ?? Environment.GetEnvironmentVariable("ASPNETCORE_URLS") ?? ServerApp.DefaultUrls;
            // Before anything else: a server exposed beyond loopback must not start with missing or weak secrets.
            var secrets = SecretsSetup.Resolve(config, OpsConfiguration.ResolveDataDir(config), listen, Console.Out);
            await using var target = await DatabaseTarget.OpenAsync(config, exclusive: true, ct);
            Console.WriteLine($"Database: {target.Describe()}");
            await DbCommand.MigrateAsync(target, noBackup: false, Console.Out, ct);
            var credentials = await LoginRoles.EnsureAsync(target.Owner, ct);
            // The embedded default for instances: their databases in the embedded cluster, under a role of their own.
            if (target.Local is { } local && string.IsNullOrWhiteSpace(config[Runners.Agent.Instances.OdooDatabaseServer.ConnectionKey]))
                config[Runners.Agent.Instances.OdooDatabaseServer.ConnectionKey] = await EmbeddedOdooRole.EnsureAsync(local, target.DataDir, ct);
            if (parse.GetValue(demo))
                await DemoData.SeedAsync(target.Owner.ConnectionString, config[OpsConfiguration.DemoPassword], Console.Out, ct,
                    Path.Combine(OpsConfiguration.ResolveDataDir(config), "demo-repos"));

            await using var database = OpsDatabase.Create(credentials);
            await using var app = ServerApp.Build(listen, config, database, secrets);
            await app.StartAsync(ct);
            Console.WriteLine($"OdooOps is listening on {string.Join(", ", app.Urls)} (Ctrl+C stops it and its database).");
            await app.WaitForShutdownAsync(CancellationToken.None);
            return 0;
        }));
        return command;
    }
}
