using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Runners.Protocol;
using OdooOps.Runners.Agent;
using OdooOps.Secrets;
using OdooOps.Server;

namespace OdooOps.Bench;

/// <summary>
/// The runner issue's dispatch target (2 cores): from a build's trigger to the runner holding the job, p95 ≤ 20 ms
/// over 200 builds. The real path: the server in-process on a Kestrel loopback port without an embedded runner
/// (OPS_RUNNERS=0), one runner registered through the protocol and long-polling jobs/next. Each build is queued only
/// once the poll has been parked for a moment (--pause-ms), so what is measured is the enqueue trigger's NOTIFY, the
/// server's LISTEN fan-out, the claim and the HTTP answer, not a claim that finds the build already waiting. The
/// runner then reports done (freeing its one slot) before the next build. Measured twice: one INSERT into
/// ops.builds (the required path) and POST /api/ops/builds (the API a user or CI calls).
/// </summary>
public static class DispatchBench
{
    const int WarmupBuilds = 10;

    /// <summary>Per build: runner has it − trigger sent, runner has it − trigger answered, and the trigger call itself (ms).</summary>
    sealed record Run(Latencies FromSent, Latencies FromAnswered, Latencies TriggerCall);

    public static async Task<int> RunAsync(BenchOptions o)
    {
        Console.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()} ({Environment.ProcessorCount} CPUs; run on a quiet machine, load < 1.5)");
        var dir = Path.Combine(Path.GetTempPath(), $"odooops-bench-{Guid.NewGuid():N}"[..28]);
        await using var pg = await LocalPostgres.StartAsync(dir);
        try
        {
            var owner = pg.ConnectionString();
            await new Migrator(owner.ConnectionString).MigrateAsync();
            var credentials = await LoginRoles.EnsureAsync(owner);
            await using var conn = new NpgsqlConnection(owner.ConnectionString);
            await conn.OpenAsync();
            var (orgId, projectId, branchId, apiToken) = await SeedAsync(conn);

            await using var database = OpsDatabase.Create(credentials);
            var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning", ["OPS_RUNNERS"] = "0" }).Build();
            await using var app = ServerApp.Build("http://127.0.0.1:0", config, database,
                new OpsSecrets(OpsSecrets.Names.ToDictionary(n => n, _ => OpsSecrets.Generate()), SecretsKey.Generate()));
            await app.StartAsync();
            var url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

            var registration = AccessTokens.Create(RunnerProtocol.RegistrationTokenPrefix);
            await conn.ExecuteAsync("insert into ops.runner_registration_tokens (org_id, token_hash) values (@orgId, @hash)",
                new { orgId, hash = AccessTokens.Hash(registration) });
            var registered = await DispatchClient.RegisterAsync(url, new RunnerProtocol.RegisterRequest(registration, "bench-runner", [], 1, "bench"));
            using var runner = new DispatchClient(url, registered.Token);
            var pause = TimeSpan.FromMilliseconds(o.PauseMs);
            Console.WriteLine($"{o.Builds} builds per path (+{WarmupBuilds} warm-up), one at a time; each queued {o.PauseMs} ms after the runner's long poll was sent.");

            Task<Guid> InsertAsync() => conn.ExecuteScalarAsync<Guid>(
                "insert into ops.builds (project_id, branch_id, trigger) values (@projectId, @branchId, 'manual') returning id", new { projectId, branchId });

            using var api = new HttpClient { BaseAddress = url };
            api.DefaultRequestHeaders.Authorization = new("Bearer", apiToken);
            async Task<Guid> PostAsync()
            {
                using var response = await api.PostAsJsonAsync("/api/ops/builds", new { project_id = projectId, branch_id = branchId });
                var text = await response.Content.ReadAsStringAsync();
                if (response.StatusCode != HttpStatusCode.Accepted) throw new InvalidOperationException($"POST /api/ops/builds answered {(int)response.StatusCode}: {text}");
                return JsonDocument.Parse(text).RootElement.GetProperty("id").GetGuid();
            }

            await MeasureAsync(runner, WarmupBuilds, pause, InsertAsync); // also proves the server is LISTENing
            var sql = await MeasureAsync(runner, o.Builds, pause, InsertAsync);
            await MeasureAsync(runner, WarmupBuilds, pause, PostAsync);
            var http = await MeasureAsync(runner, o.Builds, pause, PostAsync);

            var (success, other) = await conn.QuerySingleAsync<(long, long)>(
                "select count(*) filter (where status = 'success'), count(*) filter (where status <> 'success') from ops.builds");
            var expected = 2 * (o.Builds + WarmupBuilds);

            Console.WriteLine();
            Console.WriteLine($"INSERT into ops.builds → runner has the job, from the INSERT's commit  {Describe(sql.FromAnswered)}");
            Console.WriteLine($"                                            from the INSERT sent    {Describe(sql.FromSent)}");
            Console.WriteLine($"                                            the INSERT itself       {Describe(sql.TriggerCall)}");
            Console.WriteLine($"POST /api/ops/builds   → runner has the job, from the request sent  {Describe(http.FromSent)}");
            Console.WriteLine($"                                            from its 202 answer     {Describe(http.FromAnswered)}");
            Console.WriteLine($"                                            the POST itself         {Describe(http.TriggerCall)}");
            Console.WriteLine($"builds: {success} success, {other} other (expected {expected} success, 0 other): {(success == expected && other == 0 ? "OK" : "WRONG")}");
            var p95 = sql.FromAnswered.Percentile(95);
            Console.WriteLine();
            Console.WriteLine($"dispatch p95 (INSERT commit → runner) = {p95:F2} ms  (target ≤ 20 ms: {(p95 <= 20 ? "met" : "NOT met")})");
            Console.WriteLine($"load average at the end: {File.ReadAllText("/proc/loadavg").Trim()}");
            await app.StopAsync();
            return success == expected && other == 0 ? 0 : 1;
        }
        finally
        {
            await pg.StopAsync();
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    static string Describe(Latencies l) =>
        $"n={l.Count,4}  p50={l.Percentile(50),7:F2} ms  p95={l.Percentile(95),7:F2} ms  max={l.Percentile(100),7:F2} ms  min={l.Percentile(0),6:F2} ms";

    /// <summary>One build at a time: poll, pause, trigger, wait for the poll to answer that build, report it done.</summary>
    static async Task<Run> MeasureAsync(DispatchClient runner, int builds, TimeSpan pause, Func<Task<Guid>> trigger)
    {
        List<double> fromSent = [], fromAnswered = [], call = [];
        for (var i = 0; i < builds; i++)
        {
            var poll = PollAsync(runner);
            await Task.Delay(pause);
            if (poll.IsCompleted) throw new InvalidOperationException($"The long poll answered before any build was queued: {await poll}");
            var sent = Stopwatch.GetTimestamp();
            var buildId = await trigger();
            var answered = Stopwatch.GetTimestamp();
            var (jobs, received) = await poll.WaitAsync(TimeSpan.FromSeconds(RunnerProtocol.MaxWaitSeconds + 10));
            if (jobs.Count != 1 || jobs[0].BuildId != buildId)
                throw new InvalidOperationException($"The runner got [{string.Join(", ", jobs.Select(j => j.BuildId))}], not build {buildId}.");
            fromSent.Add(Stopwatch.GetElapsedTime(sent, received).TotalMilliseconds);
            fromAnswered.Add(Stopwatch.GetElapsedTime(answered, received).TotalMilliseconds); // < 0 if the runner was first
            call.Add(Stopwatch.GetElapsedTime(sent, answered).TotalMilliseconds);
            await runner.DoneAsync(jobs[0], "success", null, default);
        }
        return new Run(new Latencies(fromSent), new Latencies(fromAnswered), new Latencies(call));
    }

    /// <summary>The runner's long poll; the time is taken the moment it answers, whenever the bench looks.</summary>
    static async Task<(IReadOnlyList<RunnerProtocol.Job> Jobs, long Received)> PollAsync(DispatchClient runner)
    {
        var jobs = await runner.NextAsync(1, RunnerProtocol.MaxWaitSeconds, default);
        return (jobs, Stopwatch.GetTimestamp());
    }

    /// <summary>An org, its project with a production branch, and an owner's write token for the API path.</summary>
    static async Task<(Guid OrgId, Guid ProjectId, Guid BranchId, string ApiToken)> SeedAsync(NpgsqlConnection conn)
    {
        var orgId = await conn.ExecuteScalarAsync<Guid>("insert into registry.orgs (name, slug) values ('bench', 'bench') returning id");
        var projectId = await conn.ExecuteScalarAsync<Guid>(
            "insert into ops.projects (org_id, name, slug, repo_url) values (@orgId, 'Bench', 'bench', 'https://git.example.com/bench.git') returning id", new { orgId });
        var branchId = await conn.ExecuteScalarAsync<Guid>(
            "insert into ops.branches (project_id, name, stage, is_production) values (@projectId, 'main', 'production', true) returning id", new { projectId });
        var userId = await conn.ExecuteScalarAsync<Guid>(
            "insert into registry.users (email, display_name, password_hash) values ('bench@example.com', 'Bench', @hash) returning id",
            new { hash = Passwords.Hash("bench-password") });
        await conn.ExecuteAsync("insert into registry.org_members (org_id, user_id, role) values (@orgId, @userId, 'owner')", new { orgId, userId });
        var token = AccessTokens.Create(AccessTokens.PersonalPrefix);
        await conn.ExecuteAsync("insert into ops.api_tokens (user_id, name, token_prefix, token_hash, scope) values (@userId, 'bench', @p, @h, 'write')",
            new { userId, p = AccessTokens.Preview(token), h = AccessTokens.Hash(token) });
        return (orgId, projectId, branchId, token);
    }
}
