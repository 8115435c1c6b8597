using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Bench;

/// <summary>
/// Issue 3's target: with 1,000 projects and 32 concurrent clients, GET /api/ops/projects p95 ≤ 2× the p95 of the
/// same SQL run by pgbench at the same concurrency in the same run; /app/projects at most 1.5× the API.
/// Everything runs on this machine: an embedded PostgreSQL, the server in-process on Kestrel, the clients.
/// </summary>
public static partial class ProjectsBench
{
    public static async Task<int> RunAsync(BenchOptions o)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"odooops-bench-{Guid.NewGuid():N}"[..28]);
        await using var pg = await LocalPostgres.StartAsync(dir);
        try
        {
            var owner = pg.ConnectionString();
            await new Migrator(owner.ConnectionString).MigrateAsync();
            var credentials = await LoginRoles.EnsureAsync(owner);
            var (userId, token) = await SeedAsync(owner, o.Projects);
            Console.WriteLine($"Seeded {o.Projects} projects in org 'bench' (+{o.Projects} in another org), {o.Clients} clients, {o.Seconds} s per run.");

            if (o.Explain) await ExplainAsync(credentials.App, userId);

            await using var database = OpsDatabase.Create(credentials);
            var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning", ["OPS_RUNNERS"] = "0" }).Build();
            await using var app = ServerApp.Build("http://127.0.0.1:0", config, database,
                new OdooOps.Secrets.OpsSecrets(OdooOps.Secrets.OpsSecrets.Names.ToDictionary(n => n, _ => OdooOps.Secrets.OpsSecrets.Generate()),
                    OdooOps.Secrets.SecretsKey.Generate()));
            await app.StartAsync();
            var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

            var api = NewClient(url);
            api.DefaultRequestHeaders.Authorization = new("Bearer", token);
            var first = await api.GetStringAsync("/api/ops/projects");
            var count = Regex.Matches(first, "\"slug\"").Count;
            if (count != o.Projects) throw new InvalidOperationException($"API returned {count} projects, expected {o.Projects}.");

            var page = NewClient(url);
            await SignInAsync(page, "bench@example.com");
            var html = await page.GetStringAsync("/app/projects?org=bench");
            if (!html.Contains("Projects")) throw new InvalidOperationException("The projects page did not render.");

            var pgbench = await RunPgbenchAsync(credentials.App, userId, o, dir);
            var apiRun = await LoadAsync(api, "/api/ops/projects", o);
            var pageRun = await LoadAsync(page, "/app/projects?org=bench", o);

            Console.WriteLine();
            Console.WriteLine($"pgbench  (same SQL)    {pgbench.Describe(o.Seconds)}");
            Console.WriteLine($"API      /api/ops/projects {apiRun.Describe(o.Seconds)}");
            Console.WriteLine($"console  /app/projects     {pageRun.Describe(o.Seconds)}");
            var apiRatio = apiRun.Percentile(95) / pgbench.Percentile(95);
            var pageRatio = pageRun.Percentile(95) / apiRun.Percentile(95);
            Console.WriteLine();
            Console.WriteLine($"API p95 / pgbench p95 = {apiRatio:F2}  (target ≤ 2.00: {(apiRatio <= 2 ? "met" : "NOT met")})");
            Console.WriteLine($"page p95 / API p95    = {pageRatio:F2}  (target ≤ 1.50: {(pageRatio <= 1.5 ? "met" : "NOT met")})");
            await app.StopAsync();
            return 0;
        }
        finally
        {
            await pg.StopAsync();
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    static HttpClient NewClient(string url) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = 256,
        UseCookies = true,
        CookieContainer = new CookieContainer(),
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
    }) { BaseAddress = new Uri(url) };

    static async Task<Latencies> LoadAsync(HttpClient client, string path, BenchOptions o)
    {
        async Task<List<double>> Loop(DateTime until)
        {
            var samples = new List<double>();
            while (DateTime.UtcNow < until)
            {
                var start = Stopwatch.GetTimestamp();
                using var response = await client.GetAsync(path, HttpCompletionOption.ResponseContentRead);
                if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"{path}: {(int)response.StatusCode}");
                samples.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
            return samples;
        }
        var warm = DateTime.UtcNow.AddSeconds(o.Warmup);
        await Task.WhenAll(Enumerable.Range(0, o.Clients).Select(_ => Task.Run(() => Loop(warm))));
        var until = DateTime.UtcNow.AddSeconds(o.Seconds);
        var all = await Task.WhenAll(Enumerable.Range(0, o.Clients).Select(_ => Task.Run(() => Loop(until))));
        return new Latencies(all.SelectMany(s => s));
    }

    /// <summary>The API's own SQL, as the same login role, in the same transaction shape, through pgbench.</summary>
    static async Task<Latencies> RunPgbenchAsync(NpgsqlConnectionStringBuilder app, Guid userId, BenchOptions o, string dir)
    {
        var script = Path.Combine(dir, "list_projects.sql");
        await File.WriteAllTextAsync(script, $"""
            BEGIN;
            SELECT set_config('ops.user_id', '{userId}', true);
            SELECT * FROM ops.list_projects() WHERE NULL::uuid IS NULL OR org_id = NULL::uuid;
            COMMIT;
            """);
        var logs = Path.Combine(dir, "pgbench-logs");
        Directory.CreateDirectory(logs);
        var bin = PostgresBinaries.Locate();
        var env = new Dictionary<string, string> { ["PGPASSWORD"] = app.Password! };
        var common = new List<string> { "-n", "-h", app.Host!, "-p", app.Port.ToString(), "-U", app.Username!, "-c", o.Clients.ToString(), "-j", "2", "-M", "prepared", "-f", script };
        var warm = await ProcessRunner.RunAsync(bin.Tool("pgbench"), [.. common, "-T", o.Warmup.ToString(), app.Database!], env, default);
        if (warm.ExitCode != 0) throw new InvalidOperationException($"pgbench failed: {warm.Describe()}");
        var run = await ProcessRunner.RunAsync(bin.Tool("pgbench"), [.. common, "-T", o.Seconds.ToString(), "-l", "--log-prefix", Path.Combine(logs, "tx"), app.Database!], env, default);
        if (run.ExitCode != 0) throw new InvalidOperationException($"pgbench failed: {run.Describe()}");
        // Each log line: client transaction latency_us script epoch_s epoch_us
        var samples = Directory.GetFiles(logs).SelectMany(File.ReadLines)
            .Select(l => l.Split(' ')).Where(p => p.Length >= 3).Select(p => double.Parse(p[2]) / 1000.0);
        return new Latencies(samples);
    }

    /// <summary>--explain: the plan of the list query as the request role sees it, to find what a change should fix.</summary>
    static async Task ExplainAsync(NpgsqlConnectionStringBuilder app, Guid userId)
    {
        await using var conn = new NpgsqlConnection(app.ConnectionString);
        await conn.OpenAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await conn.ExecuteAsync("select set_config('ops.user_id', @u, true)", new { u = userId.ToString() }, tx);
        var plan = await conn.QueryAsync<string>("explain (analyze, buffers) select * from ops.list_projects()", transaction: tx);
        Console.WriteLine(string.Join('\n', plan));
        var inner = await conn.QueryAsync<string>("explain (analyze, buffers) " + ListSql, transaction: tx);
        Console.WriteLine(string.Join('\n', inner));
    }

    /// <summary>The body of ops.list_projects, to see its plan (a function call hides it).</summary>
    static string ListSql => Environment.GetEnvironmentVariable("BENCH_LIST_SQL") ?? "select 1";

    static async Task<(Guid UserId, string Token)> SeedAsync(NpgsqlConnectionStringBuilder owner, int projects)
    {
        await using var conn = new NpgsqlConnection(owner.ConnectionString);
        await conn.OpenAsync();
        var userId = await conn.ExecuteScalarAsync<Guid>(
            "insert into registry.users (email, display_name, password_hash) values ('bench@example.com', 'Bench', @hash) returning id",
            new { hash = Passwords.Hash("bench-password") });
        foreach (var slug in new[] { "bench", "other" })
        {
            var org = await conn.ExecuteScalarAsync<Guid>("insert into registry.orgs (name, slug) values (@slug, @slug) returning id", new { slug });
            if (slug == "bench")
                await conn.ExecuteAsync("insert into registry.org_members (org_id, user_id, role) values (@org, @userId, 'owner')", new { org, userId });
            await conn.ExecuteAsync("""
                insert into ops.projects (org_id, name, slug, repo_url, runtime_version, last_activity_at)
                select @org, 'Project ' || g, 'p-' || g, 'https://git.example.com/p' || g || '.git', '19.0', now() - make_interval(mins => g)
                from generate_series(1, @projects) g;
                insert into ops.branches (project_id, name, stage, is_production)
                select p.id, b.name, b.stage, b.stage = 'production'
                from ops.projects p cross join (values ('main', 'production'), ('staging', 'staging'), ('dev', 'development')) b(name, stage)
                where p.org_id = @org;
                insert into ops.builds (project_id, branch_id, status, trigger, commit_sha, created_at)
                select b.project_id, b.id, (array['success','warning','failed','success'])[1 + g % 4], 'push', md5(b.id::text || g), now() - make_interval(mins => g)
                from ops.branches b join ops.projects p on p.id = b.project_id and p.org_id = @org
                cross join generate_series(1, 5) g;
                insert into ops.advisories (project_id, rule, fingerprint, severity, title)
                select p.id, 'bench', 'bench:' || p.id || ':' || g, 'warning', 'Bench advisory'
                from ops.projects p cross join generate_series(1, 2) g
                where p.org_id = @org and abs(hashtext(p.slug)) % 3 = 0;
                """, new { org, projects });
        }
        await conn.ExecuteAsync("analyze ops.projects, ops.branches, ops.builds, ops.advisories");
        var token = AccessTokens.Create(AccessTokens.PersonalPrefix);
        await conn.ExecuteAsync("insert into ops.api_tokens (user_id, name, token_prefix, token_hash, scope) values (@userId, 'bench', @p, @h, 'read')",
            new { userId, p = AccessTokens.Preview(token), h = AccessTokens.Hash(token) });
        return (userId, token);
    }

    /// <summary>Signs the client in through the console's form (its cookie container keeps the session).</summary>
    internal static async Task SignInAsync(HttpClient client, string email, string password = "bench-password")
    {
        var form = await client.GetStringAsync("/login");
        var token = AntiforgeryField().Match(form).Groups[1].Value;
        var response = await client.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login", ["__RequestVerificationToken"] = token, ["Input.Email"] = email, ["Input.Password"] = password,
        }));
        if (response.StatusCode != HttpStatusCode.Redirect) throw new InvalidOperationException("Sign-in failed.");
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
