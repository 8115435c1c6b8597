using System.Diagnostics;
using System.Net;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Bench;

/// <summary>
/// Issue 12's proxy target: requests through serve's instance proxy (by host name) against the same requests straight
/// to the instance, same client, same concurrency, same run: p50 at most 1.5 ms more, throughput at least 0.8×.
/// The instance is a small Kestrel server answering a 4 KiB page (about Odoo's login page without its assets), at once
/// or after --pause-ms (Odoo's own time for a request: Python renders for milliseconds; at once, the run measures the
/// cost of a second HTTP hop on a machine whose cores the client, the proxy and the instance share);
/// or (--standin [--workers N]) the stand-in odoo-bin itself, serving its login page from its database as Odoo does;
/// everything runs on this machine (embedded PostgreSQL, serve in-process, the clients).
/// </summary>
public static class ProxyBench
{
    const string Host = "main.bench.localhost";

    public static async Task<int> RunAsync(BenchOptions o, string[] args)
    {
        var standIn = args.Contains("--standin");
        var at = Array.IndexOf(args, "--workers");
        var workers = at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1]) : 2;
        var dir = Path.Combine(Path.GetTempPath(), $"odooops-bench-{Guid.NewGuid():N}"[..28]);
        await using var pg = await LocalPostgres.StartAsync(dir);
        try
        {
            var owner = pg.ConnectionString();
            await new Migrator(owner.ConnectionString).MigrateAsync();
            var credentials = await LoginRoles.EnsureAsync(owner);
            await using var upstream = standIn
                ? await StandInUpstream.StartAsync(pg, dir, workers)
                : (IAsyncDisposable)await StartUpstreamAsync(o.PauseMs);
            var upstreamUrl = upstream is StandInUpstream s ? s.Url : Address((WebApplication)upstream);
            await SeedAsync(owner, new Uri(upstreamUrl).Port);

            await using var database = OpsDatabase.Create(credentials);
            var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Warning", ["OPS_RUNNERS"] = "0",
            }).Build();
            await using var app = ServerApp.Build("http://127.0.0.1:0", config, database,
                new OdooOps.Secrets.OpsSecrets(OdooOps.Secrets.OpsSecrets.Names.ToDictionary(n => n, _ => OdooOps.Secrets.OpsSecrets.Generate()),
                    OdooOps.Secrets.SecretsKey.Generate()));
            await app.StartAsync();
            var serveUrl = Address(app);
            var what = standIn ? $"the stand-in odoo-bin, --workers {workers}" : $"answers after {o.PauseMs} ms";
            Console.WriteLine($"Upstream {upstreamUrl} ({what}), serve {serveUrl} (Host: {Host}); {o.Clients} clients, {o.Seconds} s per run, {o.Warmup} s warm-up.");

            using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, UseCookies = false, MaxConnectionsPerServer = o.Clients });
            var direct = await LoadAsync(client, new Uri(upstreamUrl + "/web/login"), null, o);
            var proxied = await LoadAsync(client, new Uri(serveUrl + "/web/login"), Host, o);

            Console.WriteLine();
            Console.WriteLine($"direct   {direct.Describe(o.Seconds)}");
            Console.WriteLine($"proxied  {proxied.Describe(o.Seconds)}");
            var extra = proxied.Percentile(50) - direct.Percentile(50);
            var ratio = (double)proxied.Count / direct.Count;
            Console.WriteLine();
            Console.WriteLine($"p50 overhead       = {extra:F2} ms  (target ≤ 1.50: {(extra <= 1.5 ? "met" : "NOT met")})");
            Console.WriteLine($"throughput ratio   = {ratio:F2}     (target ≥ 0.80: {(ratio >= 0.8 ? "met" : "NOT met")})");
            await app.StopAsync();
            return 0;
        }
        finally
        {
            await pg.StopAsync();
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    static string Address(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    static async Task<WebApplication> StartUpstreamAsync(int pauseMs)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var page = System.Text.Encoding.UTF8.GetBytes("<!doctype html><title>Login | Odoo</title>" + new string('x', 4096 - 41));
        app.Run(async context =>
        {
            if (pauseMs > 0) await Task.Delay(pauseMs);
            context.Response.ContentType = "text/html; charset=utf-8";
            await context.Response.Body.WriteAsync(page);
        });
        await app.StartAsync();
        return app;
    }

    /// <summary>An organisation, a project labelled "bench" with a production branch "main", and its running instance.</summary>
    static async Task SeedAsync(Npgsql.NpgsqlConnectionStringBuilder owner, int port)
    {
        await using var conn = new Npgsql.NpgsqlConnection(owner.ConnectionString);
        await conn.OpenAsync();
        await conn.ExecuteAsync("""
            with org as (insert into registry.orgs (name, slug) values ('Bench', 'bench') returning id),
                 project as (insert into ops.projects (org_id, name, slug, repo_url, host_label)
                             select id, 'Bench', 'bench', 'https://git.example/bench.git', 'bench' from org returning id, org_id),
                 branch as (insert into ops.branches (project_id, name, stage, is_production, host_label)
                            select id, 'main', 'production', true, 'main' from project returning id, project_id),
                 runner as (insert into ops.runners (org_id, name, labels, token_hash, instance_address)
                            select org_id, 'bench-runner', '{}', uuid_send(gen_random_uuid()), '127.0.0.1' from project returning id),
                 build as (insert into ops.builds (project_id, branch_id, status, trigger)
                           select project_id, id, 'success', 'push' from branch returning id, project_id, branch_id)
            insert into ops.instances (project_id, branch_id, build_id, runner_id, stage, state, is_current, database_name, http_port)
            select b.project_id, b.branch_id, b.id, r.id, 'production', 'running', true, 'bench', @port from build b, runner r
            """, new { port });
    }

    static async Task<Latencies> LoadAsync(HttpClient client, Uri url, string? host, BenchOptions o)
    {
        async Task<List<double>> Loop(DateTime until)
        {
            var samples = new List<double>();
            while (DateTime.UtcNow < until)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                if (host is not null) request.Headers.Host = host;
                var start = Stopwatch.GetTimestamp();
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead);
                if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"{url} ({host}): {(int)response.StatusCode}");
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
}
