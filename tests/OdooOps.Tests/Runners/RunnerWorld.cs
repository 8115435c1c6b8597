using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Runners.Protocol;
using OdooOps.Runners.Agent;
using OdooOps.Runners.Agent.Execution;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Runners.Agent.Execution;

namespace OdooOps.Tests.Runners;

/// <summary>
/// A real server on a Kestrel loopback port with its own database (no embedded runner unless asked), an org with a
/// project whose repository is a real git repository in a temp folder, and what runner tests need: registration and
/// runner tokens, builds queued as a push would, in-process runners, and the build's rows.
/// </summary>
public sealed class RunnerWorld : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly List<RunnerProcess> _processes = [];
    public OpsDatabase Database { get; }
    public NpgsqlConnectionStringBuilder Owner { get; }
    public Uri Url { get; }
    public TestRepository Repo { get; }
    public Guid OrgId { get; private set; }
    public Guid ProjectId { get; private set; }
    public string WorkDir { get; } = ProcessProbe.NewTempDir("odooops-runner");

    RunnerWorld(WebApplication app, OpsDatabase database, NpgsqlConnectionStringBuilder owner, TestRepository repo)
    {
        (_app, Database, Owner, Repo) = (app, database, owner, repo);
        Url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    /// <param name="settings">Server settings, e.g. OPS_RUNNER_LEASE_SECONDS, OPS_RUNNERS (embedded runner capacity).</param>
    /// <param name="urls">Where the server listens (Kestrel); <paramref name="configure"/> adjusts its builder.</param>
    public static async Task<RunnerWorld> StartAsync(PostgresCluster cluster, IDictionary<string, string?>? settings = null,
        string urls = "http://127.0.0.1:0", Action<WebApplicationBuilder>? configure = null)
    {
        var owner = await cluster.CreateDatabaseAsync("runner");
        var database = OpsDatabase.Create(await LoginRoles.EnsureAsync(owner));
        var repo = await TestRepository.CreateAsync();
        var app = TestHosts.Build(database, urls, configure, settings);
        await app.StartAsync();
        var world = new RunnerWorld(app, database, owner, repo);
        world.OrgId = await Accounts.CreateOrgAsync(owner, "runner-org");
        world.ProjectId = await Accounts.CreateProjectAsync(owner, world.OrgId, "app");
        await using var conn = await Accounts.OpenAsync(owner);
        await conn.ExecuteAsync("update ops.projects set repo_url = @Dir where id = @ProjectId", new { repo.Dir, world.ProjectId });
        return world;
    }

    public T Service<T>() where T : notnull => _app.Services.GetRequiredService<T>();

    public IServiceProvider Services => _app.Services;

    /// <summary>An org registration token (oo_reg_…), as an org admin would create it.</summary>
    public async Task<string> RegistrationTokenAsync(Guid? orgId = null, bool shared = false)
    {
        var token = AccessTokens.Create(RunnerProtocol.RegistrationTokenPrefix);
        await using var conn = await Accounts.OpenAsync(Owner);
        await conn.ExecuteAsync("insert into ops.runner_registration_tokens (org_id, token_hash) values (@org, @hash)",
            new { org = shared ? (Guid?)null : orgId ?? OrgId, hash = AccessTokens.Hash(token) });
        return token;
    }

    /// <summary>A shared runner (the operator's, for every organisation): its instances may be reached over loopback.</summary>
    public async Task<RunnerProtocol.Registered> RegisterSharedAsync(string name) =>
        await DispatchClient.RegisterAsync(Url, new RunnerProtocol.RegisterRequest(await RegistrationTokenAsync(shared: true), name, [], 1, "test"));

    /// <summary>A registered runner's token (through the protocol's register call).</summary>
    public async Task<string> RunnerTokenAsync(string name = "test-runner", int capacity = 1, params string[] labels) =>
        (await RegisterAsync(name, capacity, labels)).Token;

    public async Task<RunnerProtocol.Registered> RegisterAsync(string name = "test-runner", int capacity = 1, params string[] labels) =>
        await DispatchClient.RegisterAsync(Url, new RunnerProtocol.RegisterRequest(await RegistrationTokenAsync(), name, labels, capacity, "test"));

    /// <summary>A protocol client of a newly registered runner.</summary>
    public async Task<DispatchClient> ClientAsync(string name = "test-runner", int capacity = 1, params string[] labels) =>
        new(Url, await RunnerTokenAsync(name, capacity, labels));

    /// <summary>An API client signed in with a token of a new owner of the world's org.</summary>
    public async Task<HttpClient> OwnerApiAsync() => new HttpClient { BaseAddress = Url }.WithToken(await OwnerTokenAsync());

    /// <summary>An API token (write scope) of a new owner of the world's org.</summary>
    public async Task<string> OwnerTokenAsync()
    {
        var user = await Accounts.CreateUserAsync(Owner, $"owner-{Guid.NewGuid():N}@example.com", OrgId, "owner");
        return await Accounts.CreateTokenAsync(Owner, user);
    }

    /// <summary>
    /// `odooops runner` as a separate process (the real binary) with its own work dir under <see cref="WorkDir"/>;
    /// its output is collected in <see cref="RunnerProcess.Output"/>.
    /// </summary>
    public RunnerProcess StartRunnerProcess(string name, string token, int capacity = 1, IDictionary<string, string>? env = null)
    {
        var process = new RunnerProcess(CliRunner.StartInfo(["runner", "--url", Url.ToString(), "--token", token, "--name", name, "--capacity", capacity.ToString(),
            "--work-dir", Path.Combine(WorkDir, name), "--keep-failed", "0"], env));
        _processes.Add(process);
        return process;
    }

    /// <summary>A runner process started elsewhere, ended with this world.</summary>
    public RunnerProcess Track(RunnerProcess process)
    {
        _processes.Add(process);
        return process;
    }

    /// <summary>`odooops runner` with exactly these arguments (after the verb).</summary>
    public RunnerProcess StartRunnerProcess(params string[] arguments)
    {
        var process = new RunnerProcess(CliRunner.StartInfo(["runner", .. arguments]));
        _processes.Add(process);
        return process;
    }

    /// <summary>An in-process runner (the same agent `odooops runner` runs) until <paramref name="stop"/>.</summary>
    /// <param name="handler">Between the runner and the server (e.g. one that holds calls back); none: straight to it.</param>
    /// <param name="logQueue">Where the runner's log batchers report what they held and dropped.</param>
    public async Task<Task> StartRunnerAsync(CancellationToken stop, string name = "test-runner", int capacity = 1, TimeSpan? killGrace = null,
        string? odooBin = null, StepUser? stepUser = null, HttpMessageHandler? handler = null, LogQueueMeter? logQueue = null,
        OdooOps.Runners.Agent.Sandbox.SandboxSettings? sandbox = null, OdooOps.Runners.Agent.Instances.InstanceHosting? instances = null, Microsoft.Extensions.Logging.ILogger? log = null,
        bool shared = false)
    {
        var client = new DispatchClient(Url, shared ? (await RegisterSharedAsync(name)).Token : await RunnerTokenAsync(name, capacity), handler);
        var options = new RunnerOptions(name, capacity, [], Path.Combine(WorkDir, name))
            { KillGrace = killGrace ?? TimeSpan.FromSeconds(1), OdooBin = odooBin, StepUser = stepUser, LogQueue = logQueue,
              AllowLocalRepositories = true, Sandbox = sandbox ?? new() { LockDirectory = Path.Combine(WorkDir, "uid-locks") },
              Instances = instances ?? new() { Enabled = false } };
        return Task.Run(async () =>
        {
            using (client) await new RunnerAgent(client, options, log ?? NullLogger.Instance).RunAsync(stop);
        });
    }

    /// <summary>Queues a build of <paramref name="branch"/> as a push would (the enqueue trigger queues it).</summary>
    public async Task<Guid> QueueBuildAsync(string branch = "main", string? commit = null, string trigger = "push")
    {
        await using var conn = await Accounts.OpenAsync(Owner);
        return await conn.ExecuteScalarAsync<Guid>("""
            insert into ops.builds (project_id, branch_id, trigger, commit_sha)
            select project_id, id, @trigger, @commit from ops.branches where project_id = @ProjectId and name = @branch
            returning id
            """, new { ProjectId, branch, commit, trigger });
    }

    /// <summary>Queues <paramref name="count"/> builds of one commit on <paramref name="branch"/> in one statement.</summary>
    public async Task<List<Guid>> QueueBuildsAsync(int count, string branch, string commit)
    {
        await using var conn = await Accounts.OpenAsync(Owner);
        return [.. await conn.QueryAsync<Guid>("""
            insert into ops.builds (project_id, branch_id, trigger, commit_sha)
            select project_id, id, 'push', @commit from ops.branches, generate_series(1, @count)
             where project_id = @ProjectId and name = @branch
            returning id
            """, new { ProjectId, branch, commit, count })];
    }

    public sealed record BuildRow(string Status, int Attempt, string? CommitSha, string? ResultDetail, string Modules, Guid? RunnerId);

    public async Task<BuildRow> BuildAsync(Guid id)
    {
        await using var conn = await Accounts.OpenAsync(Owner);
        return await conn.QuerySingleAsync<BuildRow>(
            "select status, attempt, commit_sha as commitsha, result_detail as resultdetail, modules::text as modules, runner_id as runnerid from ops.builds where id = @id", new { id });
    }

    /// <summary>Polls until the build has one of <paramref name="statuses"/> (default: any final one).</summary>
    public async Task<BuildRow> WaitForAsync(Guid id, TimeSpan timeout, params string[] statuses)
    {
        string[] wanted = statuses.Length > 0 ? statuses : ["success", "warning", "failed", "cancelled", "timed_out"];
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var build = await BuildAsync(id);
            if (wanted.Contains(build.Status)) return build;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"build {id} is {build.Status}, not {string.Join("/", wanted)}; log:\n{string.Join("\n", await LogAsync(id))}");
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Starts a long poll of <paramref name="runner"/> and returns it once the server has run its claim and found
    /// nothing: the poll took its NOTIFY wake-up before claiming, so from then on it is parked. A finished claim leaves
    /// no trace to see, so a lock on the queue holds it up until it is seen waiting in pg_stat_activity; released, it
    /// is done once its session is idle or closed. Observed, where a fixed sleep could be outlasted by a busy machine.
    /// </summary>
    public async Task<Task<IReadOnlyList<RunnerProtocol.Job>>> StartParkedPollAsync(DispatchClient runner, int waitSeconds)
    {
        // Watched from a session of its own: pg_stat_activity is a snapshot per transaction.
        await using var watch = await Accounts.OpenAsync(Owner);
        Task<IReadOnlyList<RunnerProtocol.Job>> poll;
        int claim;
        await using (var hold = await Accounts.OpenAsync(Owner))
        await using (var tx = await hold.BeginTransactionAsync())
        {
            await hold.ExecuteAsync("lock table ops.run_queue in access exclusive mode", transaction: tx);
            poll = runner.NextAsync(1, waitSeconds, default);
            claim = await WaitForAsync(watch, "the poll's claim to wait on the queue's lock", """
                select pid from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'
                   and query like '%ops.claim_build_jobs(%'
                """, null);
        } // rolled back: the lock goes
        await WaitForAsync(watch, "the poll's claim to finish", """
            select 1 where not exists (select 1 from pg_stat_activity where pid = @claim and state <> 'idle')
            """, new { claim });
        return poll;
    }

    static async Task<int> WaitForAsync(NpgsqlConnection conn, string what, string sql, object? args)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (await conn.QueryFirstOrDefaultAsync<int?>(sql, args) is { } found) return found;
            if (DateTime.UtcNow > deadline) Assert.Fail($"waited in vain for {what}");
            await Task.Delay(20);
        }
    }

    public async Task<List<string>> LogAsync(Guid id)
    {
        await using var conn = await Accounts.OpenAsync(Owner);
        return [.. await conn.QueryAsync<string>("select stream || ': ' || line from ops.build_logs where build_id = @id order by seq", new { id })];
    }

    public sealed record StepRow(int Seq, string Name, string Status, int? ExitCode, long? DurationMs);

    public async Task<List<StepRow>> StepsAsync(Guid id)
    {
        await using var conn = await Accounts.OpenAsync(Owner);
        return [.. await conn.QueryAsync<StepRow>(
            "select seq, name, status, exit_code as exitcode, duration_ms as durationms from ops.build_steps where build_id = @id order by seq", new { id })];
    }

    /// <summary>Commits a .odooops.yml (and any other files) on main; returns the commit.</summary>
    public Task<string> CommitPipelineAsync(string yaml, params (string Path, string Content)[] files) =>
        Repo.CommitFilesAsync("pipeline", [(".odooops.yml", yaml), .. files]);

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes) process.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        await Database.DisposeAsync();
        Repo.Dispose();
        try { Directory.Delete(WorkDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>A runner process; killed (with its process tree) when disposed.</summary>
public sealed class RunnerProcess : IDisposable
{
    readonly System.Diagnostics.Process _process;
    readonly System.Text.StringBuilder _output = new();

    public RunnerProcess(System.Diagnostics.ProcessStartInfo start)
    {
        _process = System.Diagnostics.Process.Start(start)!;
        _process.StandardInput.Close();
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>SIGTERM, as systemd or docker stop send it; true when the runner exits (code 0) within <paramref name="within"/>.</summary>
    public async Task<bool> TerminateAsync(TimeSpan within)
    {
        System.Diagnostics.Process.Start("kill", ["-TERM", _process.Id.ToString()])!.WaitForExit();
        using var timeout = new CancellationTokenSource(within);
        try { await _process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException) { return false; }
        return _process.ExitCode == 0;
    }

    /// <summary>SIGKILL to the runner alone, as a crash or the OOM killer would: its step processes are not told.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
