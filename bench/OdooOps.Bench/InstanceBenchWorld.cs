using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Runners.Agent;
using OdooOps.Runners.Agent.Instances;
using OdooOps.Runners.Protocol;
using OdooOps.Server;

namespace OdooOps.Bench;

/// <summary>
/// What the instances bench runs against, as `serve` would have it: an embedded PostgreSQL cluster with its Odoo admin
/// role (EmbeddedOdooRole, the embedded default), serve in-process (its proxy routes instance host names), a git
/// repository of one Odoo addon, the stand-in odoo-bin (tests/odoo-standin/odoo-bin, embedded in this assembly), and
/// runners that host instances: in-process (the agent `odooops runner` runs) or the real binary as a separate process.
/// Every setting but the work dirs is the default one (health every 5 s, samples every 60 s).
/// </summary>
public sealed class InstanceBenchWorld : IAsyncDisposable
{
    readonly LocalPostgres _pg;
    readonly WebApplication _app;
    readonly OpsDatabase _database;
    readonly List<(CancellationTokenSource Stop, Task Run)> _runners = [];

    InstanceBenchWorld(string dir, LocalPostgres pg, WebApplication app, OpsDatabase database, string odooDb)
    {
        (Dir, _pg, _app, _database, OdooDb) = (dir, pg, app, database, odooDb);
        Owner = pg.ConnectionString();
        Url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        OdooBin = InstallStandIn(Path.Combine(dir, "odoo"));
        Repo = new BenchRepository(Directory.CreateDirectory(Path.Combine(dir, "repo")).FullName);
    }

    public string Dir { get; }
    public NpgsqlConnectionStringBuilder Owner { get; }
    public Uri Url { get; }
    public string OdooBin { get; }
    public string OdooDb { get; }
    public BenchRepository Repo { get; }
    public Guid OrgId { get; private set; }

    /// <summary>The proxy's "did not answer" warnings (which instance, when).</summary>
    public ProxyWarnings ProxyLog { get; private init; } = null!;

    public static async Task<InstanceBenchWorld> StartAsync()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"odooops-bench-{Guid.NewGuid():N}"[..28]);
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101); // sandboxed instances run as other uids: they walk through it
        var pg = await LocalPostgres.StartAsync(Path.Combine(dir, "data"));
        var owner = pg.ConnectionString();
        await new Migrator(owner.ConnectionString).MigrateAsync();
        var database = OpsDatabase.Create(await LoginRoles.EnsureAsync(owner));
        var odooDb = await EmbeddedOdooRole.EnsureAsync(pg, pg.DataDir, CancellationToken.None);
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning", ["OPS_RUNNERS"] = "0", ["OPS_ALLOW_LOCAL_REPOS"] = "1",
        }).Build();
        var log = new ProxyWarnings();
        var app = ServerApp.Build("http://127.0.0.1:0", config, database,
            new Secrets.OpsSecrets(Secrets.OpsSecrets.Names.ToDictionary(n => n, _ => Secrets.OpsSecrets.Generate()), Secrets.SecretsKey.Generate()),
            b => b.Logging.ClearProviders().AddProvider(log));
        await app.StartAsync();
        var world = new InstanceBenchWorld(dir, pg, app, database, odooDb) { ProxyLog = log };
        await using var conn = await world.OpenAsync();
        world.OrgId = await conn.ExecuteScalarAsync<Guid>("insert into registry.orgs (name, slug) values ('Bench', 'bench') returning id");
        await world.Repo.InitAsync();
        await world.Repo.CommitFilesAsync("an addon", Manifest("sale_extra", "19.0.1.0.0"));
        return world;
    }

    public static (string, string) Manifest(string module, string version) =>
        ($"addons/{module}/__manifest__.py", $"{{'name': '{module}', 'version': '{version}', 'depends': ['base'], 'installable': True}}");

    public async Task<NpgsqlConnection> OpenAsync()
    {
        var conn = new NpgsqlConnection(Owner.ConnectionString);
        await conn.OpenAsync();
        return conn;
    }

    /// <summary>A project of this repository with the given branches (name, stage); its id.</summary>
    public async Task<Guid> CreateProjectAsync(string slug, int maxDevInstances, params (string Name, string Stage)[] branches)
    {
        await using var conn = await OpenAsync();
        var id = await conn.ExecuteScalarAsync<Guid>("""
            insert into ops.projects (org_id, name, slug, repo_url, runtime_version, max_dev_instances)
            values (@OrgId, @slug, @slug, @Dir, '19.0', @maxDevInstances) returning id
            """, new { OrgId, slug, Repo.Dir, maxDevInstances });
        foreach (var (name, stage) in branches)
            await conn.ExecuteAsync("insert into ops.branches (project_id, name, stage, is_production) values (@id, @name, @stage, @stage = 'production')",
                new { id, name, stage });
        return id;
    }

    /// <summary>A registered runner's token (the protocol's register call), hosting up to <paramref name="instances"/>.</summary>
    public async Task<string> RunnerTokenAsync(string name, int capacity, int instances)
    {
        var registration = AccessTokens.Create(RunnerProtocol.RegistrationTokenPrefix);
        await using var conn = await OpenAsync();
        // A shared runner (the operator's, on serve's host): its instances are reached over loopback.
        await conn.ExecuteAsync("insert into ops.runner_registration_tokens (org_id, token_hash) values (null, @hash)",
            new { OrgId, hash = AccessTokens.Hash(registration) });
        var registered = await DispatchClient.RegisterAsync(Url, new RunnerProtocol.RegisterRequest(registration, name, [], capacity, "bench"));
        await conn.ExecuteAsync("update ops.runners set instance_capacity = @instances where id = @RunnerId", new { instances, registered.RunnerId });
        return registered.Token;
    }

    /// <summary>The settings every runner of the bench gets: the defaults, the stand-in, the embedded Odoo role, its own work dir.</summary>
    public Dictionary<string, string> RunnerSettings(string name) => new()
    {
        [EmbeddedRunner.OdooBinKey] = OdooBin, [OdooDatabaseServer.ConnectionKey] = OdooDb, ["OPS_ALLOW_LOCAL_REPOS"] = "1",
        ["OPS_SANDBOX_LOCK_DIR"] = Path.Combine(Dir, "uid-locks"), [EmbeddedRunner.WorkDirKey] = WorkDir(name),
    };

    public string WorkDir(string name) => Path.Combine(Dir, "runners", name);

    /// <summary>An in-process runner (the agent `odooops runner` runs) hosting instances, until this world ends.</summary>
    public async Task StartRunnerAsync(string name, int capacity, int instances)
    {
        var token = await RunnerTokenAsync(name, capacity, instances);
        var settings = RunnerSettings(name);
        var client = new DispatchClient(Url, token);
        var options = new RunnerOptions(name, capacity, [], WorkDir(name))
        {
            OdooBin = OdooBin, AllowLocalRepositories = true,
            Sandbox = Runners.Agent.Sandbox.SandboxSettings.From(k => settings.GetValueOrDefault(k)),
            Instances = InstanceHosting.From(k => settings.GetValueOrDefault(k)),
        };
        var stop = new CancellationTokenSource();
        _runners.Add((stop, Task.Run(async () =>
        {
            using (client) await new RunnerAgent(client, options, NullLogger.Instance).RunAsync(stop.Token);
        })));
    }

    /// <summary>Queues a build of <paramref name="branch"/> (at <paramref name="commit"/>) as a push would.</summary>
    public async Task<Guid> QueueBuildAsync(Guid projectId, string branch, string? commit)
    {
        await using var conn = await OpenAsync();
        return await conn.ExecuteScalarAsync<Guid>("""
            insert into ops.builds (project_id, branch_id, trigger, commit_sha)
            select project_id, id, 'push', @commit from ops.branches where project_id = @projectId and name = @branch
            returning id
            """, new { projectId, branch, commit });
    }

    public sealed record InstanceRow(Guid Id, Guid BuildId, string State, string? Reason, bool IsCurrent, int? HttpPort, DateTime? CleanedAt,
        long? DowntimeMs, DateTime? StartedAt, DateTime? ReadyAt, DateTime? StoppedAt);

    public async Task<InstanceRow?> InstanceOfAsync(Guid buildId)
    {
        await using var conn = await OpenAsync();
        return await conn.QuerySingleOrDefaultAsync<InstanceRow>("""
            select id, build_id, state, reason, is_current, http_port, cleaned_at, downtime_ms, started_at, ready_at, stopped_at
              from ops.instances where build_id = @buildId
            """, new { buildId });
    }

    /// <summary>When the instance's server logged its first line matching <paramref name="like"/> since <paramref name="since"/> (as the runner read it).</summary>
    public async Task<DateTime?> LoggedAsync(Guid instanceId, string like, DateTime since)
    {
        await using var conn = await OpenAsync();
        return await conn.ExecuteScalarAsync<DateTime?>("select min(ts) from ops.instance_logs where instance_id = @instanceId and line like @like and ts >= @since",
            new { instanceId, like, since });
    }

    /// <summary>Waits until the build has ended (success expected) and its instance matches <paramref name="condition"/>.</summary>
    public async Task<InstanceRow> WaitForInstanceAsync(Guid buildId, Func<InstanceRow, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            await using (var conn = await OpenAsync())
            {
                var (status, detail) = await conn.QuerySingleAsync<(string, string?)>("select status, result_detail from ops.builds where id = @buildId", new { buildId });
                if (status is "failed" or "cancelled" or "timed_out")
                    throw new InvalidOperationException($"build {buildId} {status}: {detail}\n{string.Join("\n", await conn.QueryAsync<string>(
                        "select line from ops.build_logs where build_id = @buildId order by seq desc limit 30", new { buildId }))}");
            }
            if (await InstanceOfAsync(buildId) is { } row && condition(row)) return row;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"instance of build {buildId}: {(await InstanceOfAsync(buildId))?.ToString() ?? "none"}");
            await Task.Delay(100);
        }
    }

    static string InstallStandIn(string tree)
    {
        Directory.CreateDirectory(tree);
        File.SetUnixFileMode(tree, (UnixFileMode)0b111_101_101);
        using var stream = typeof(InstanceBenchWorld).Assembly.GetManifestResourceStream("odoo-standin/odoo-bin")
            ?? throw new InvalidOperationException("The stand-in odoo-bin is not embedded in the bench assembly.");
        var path = Path.Combine(tree, "odoo-bin");
        using (var file = File.Create(path)) stream.CopyTo(file);
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        return path;
    }

    /// <summary>The cluster's postmaster (first line of postmaster.pid).</summary>
    public int PostmasterPid() => int.Parse(File.ReadLines(Path.Combine(_pg.ClusterDir, "postmaster.pid")).First().Trim());

    /// <summary>Stops the in-process runners (their instances stop with them).</summary>
    public async Task StopRunnersAsync()
    {
        foreach (var (stop, _) in _runners) await stop.CancelAsync();
        foreach (var (_, run) in _runners)
            try { await run; } catch (Exception e) { Console.Error.WriteLine($"runner: {e.Message}"); }
        _runners.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        await StopRunnersAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _database.DisposeAsync();
        await _pg.StopAsync();
        try { Directory.Delete(Dir, true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}

/// <summary>A git repository in a folder, committed to with a fixed author.</summary>
public sealed class BenchRepository(string dir)
{
    static readonly Dictionary<string, string> Env = new()
    {
        ["GIT_AUTHOR_NAME"] = "Bench", ["GIT_AUTHOR_EMAIL"] = "bench@example.test", ["GIT_COMMITTER_NAME"] = "Bench",
        ["GIT_COMMITTER_EMAIL"] = "bench@example.test", ["GIT_CONFIG_GLOBAL"] = "/dev/null", ["GIT_CONFIG_NOSYSTEM"] = "1",
    };

    public string Dir => dir;

    public Task InitAsync() => GitAsync("init", "-q", "-b", "main");

    /// <summary>Writes the files and commits them on the current branch; the commit's SHA.</summary>
    public async Task<string> CommitFilesAsync(string subject, params (string Path, string Content)[] files)
    {
        foreach (var (path, content) in files)
        {
            var full = Path.Combine(Dir, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            await File.WriteAllTextAsync(full, content);
            await GitAsync("add", path);
        }
        await GitAsync("commit", "-q", "-m", subject);
        return await GitAsync("rev-parse", "HEAD");
    }

    public async Task<string> GitAsync(params string[] args)
    {
        var result = await ProcessRunner.RunAsync("git", ["-C", Dir, .. args], Env, CancellationToken.None);
        if (result.ExitCode != 0) throw new InvalidOperationException($"git {string.Join(' ', args)}: {result.Describe()}");
        return result.Output.Trim();
    }
}
