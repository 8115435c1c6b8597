using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Dapper;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OdooOps.Runners.Agent;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Runners.Agent.Execution;

namespace OdooOps.Tests.Runners.Agent;

/// <summary>
/// The runner `serve` starts in-process: it registers as a shared runner and runs builds through the same HTTP
/// protocol over loopback — over https too when the server listens on https only; OPS_RUNNERS=0 leaves it out.
/// </summary>
public sealed class EmbeddedRunnerTests(PostgresCluster cluster)
{
    const string Pipeline = """
        steps:
          - name: hello
            run: echo "embedded says hi"
        """;

    static Dictionary<string, string?> Settings(string workDir) =>
        new() { ["OPS_RUNNERS"] = "2", ["OPS_RUNNER_WORK_DIR"] = workDir, ["OPS_ALLOW_LOCAL_REPOS"] = "1" };

    async Task AssertRunsABuildAsync(RunnerWorld world)
    {
        var build = await world.QueueBuildAsync("main", await world.CommitPipelineAsync(Pipeline));
        var row = await world.WaitForAsync(build, TimeSpan.FromSeconds(60));
        Assert.Equal("success", row.Status);
        Assert.Contains("stdout: embedded says hi", await world.LogAsync(build));

        await using var conn = await Accounts.OpenAsync(world.Owner);
        var runner = await conn.QuerySingleAsync<(Guid Id, string Name, bool Embedded, Guid? OrgId, int Capacity)>(
            "select id, name, embedded, org_id, capacity from ops.runners where id = @RunnerId", new { row.RunnerId });
        Assert.Equal(($"{Environment.MachineName} (embedded)", true, (Guid?)null, 2), (runner.Name, runner.Embedded, runner.OrgId, runner.Capacity));
    }

    [Fact]
    public async Task Serve_runs_builds_with_its_embedded_runner_over_loopback_http()
    {
        var workDir = ProcessProbe.NewTempDir("odooops-embedded");
        await using var world = await RunnerWorld.StartAsync(cluster, Settings(workDir));
        await AssertRunsABuildAsync(world);
    }

    [Fact]
    public async Task A_server_listening_on_https_only_still_reaches_its_embedded_runner()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=ops.example.com", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var workDir = ProcessProbe.NewTempDir("odooops-embedded");
        await using var world = await RunnerWorld.StartAsync(cluster, Settings(workDir), "https://127.0.0.1:0",
            b => b.WebHost.ConfigureKestrel(k => k.ConfigureHttpsDefaults(h => h.ServerCertificate = certificate)));
        Assert.Equal("https", world.Url.Scheme);
        await AssertRunsABuildAsync(world);
    }

    [Fact]
    public async Task The_cli_triggers_a_build_follows_its_live_log_and_exits_with_its_result()
    {
        var workDir = ProcessProbe.NewTempDir("odooops-embedded");
        await using var world = await RunnerWorld.StartAsync(cluster, Settings(workDir));
        using var sandbox = new OdooOps.Tests.Cli.CliSandbox();
        var env = new Dictionary<string, string> { ["ODOOOPS_URL"] = world.Url.ToString(), ["ODOOOPS_TOKEN"] = await world.OwnerTokenAsync(), ["NO_COLOR"] = "1" };
        string[] trigger = ["builds", "trigger", "--project", "app", "--branch", "main", "--follow"];

        await world.CommitPipelineAsync("""
            steps:
              - name: greet
                run: echo "the cli sees this line"
            """);
        var passed = await sandbox.RunAsync(trigger, env);
        Assert.True(passed.ExitCode == 0, passed.Output + passed.Error);
        Assert.Contains("the cli sees this line", passed.Output);

        await world.CommitPipelineAsync("""
            steps:
              - name: break
                run: echo "about to fail"; exit 3
            """);
        var failed = await sandbox.RunAsync(trigger, env);
        Assert.Equal(1, failed.ExitCode);
        Assert.Contains("about to fail", failed.Output);
    }

    [Fact]
    public async Task The_demo_data_builds_for_real_on_the_embedded_runner()
    {
        var workDir = ProcessProbe.NewTempDir("odooops-embedded");
        await using var world = await RunnerWorld.StartAsync(cluster, Settings(workDir));
        var repositories = ProcessProbe.NewTempDir("odooops-demo-repos");
        await OdooOps.Seed.DemoData.SeedAsync(world.Owner.ConnectionString, "demo-password-123", TextWriter.Null, repositories: repositories);

        await using var conn = await Accounts.OpenAsync(world.Owner);
        var queued = (await conn.QueryAsync<Guid>("""
            select b.id from ops.builds b join ops.projects p on p.id = b.project_id join registry.orgs o on o.id = p.org_id
             where o.slug = 'demo' and b.status in ('queued', 'running')
            """)).ToList();
        Assert.Equal(9, queued.Count); // two per development branch, on three projects (some may already run)
        Assert.All(await conn.QueryAsync<string>("select repo_url from ops.projects p join registry.orgs o on o.id = p.org_id where o.slug = 'demo'"),
            url => Assert.StartsWith(repositories, url));
        foreach (var id in queued)
        {
            var row = await world.WaitForAsync(id, TimeSpan.FromSeconds(120));
            Assert.True(row.Status == "success", string.Join("\n", await world.LogAsync(id)));
        }
        Assert.Contains(await world.LogAsync(queued[0]), l => l.EndsWith("odoo.tests.stats: all tests passed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_no_runner_capacity_no_embedded_runner_registers()
    {
        await using var world = await RunnerWorld.StartAsync(cluster, new Dictionary<string, string?> { ["OPS_RUNNERS"] = "0" });
        var build = await world.QueueBuildAsync("main", await world.CommitPipelineAsync(Pipeline));
        await Task.Delay(1500);
        Assert.Equal("queued", (await world.BuildAsync(build)).Status);
        await using var conn = await Accounts.OpenAsync(world.Owner);
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from ops.runners"));
    }

    [Fact]
    public async Task An_embedded_runner_an_admin_disabled_stays_off_when_serve_starts_again()
    {
        await using var world = await RunnerWorld.StartAsync(cluster, new Dictionary<string, string?> { ["OPS_RUNNERS"] = "0" });
        var workDir = ProcessProbe.NewTempDir("odooops-embedded");
        var config = new ConfigurationBuilder().AddInMemoryCollection(Settings(workDir)).Build();
        var name = $"{Environment.MachineName} (embedded)";
        var build = await world.QueueBuildAsync("main", await world.CommitPipelineAsync(Pipeline));

        // A previous start registered it; an admin disabled it since.
        await using (var conn = await Accounts.OpenAsync(world.Owner))
            await conn.ExecuteAsync("""
                select ops.start_embedded_runner(@name, 1, '{}', 'old', '\x00'::bytea);
                update ops.runners set disabled_at = now() where embedded;
                """, new { name });

        // `serve` starts again (the same service, started by hand against the running server).
        await using (var restarted = await StartEmbeddedAsync(world, config))
        {
            await Task.Delay(2000);
            Assert.Equal("queued", (await world.BuildAsync(build)).Status);
        }
        await using (var conn = await Accounts.OpenAsync(world.Owner))
        {
            Assert.True(await conn.ExecuteScalarAsync<bool>("select disabled_at is not null from ops.runners where embedded"));
            await conn.ExecuteAsync("update ops.runners set disabled_at = null where embedded"); // enabled again
        }
        await using (await StartEmbeddedAsync(world, config))
            Assert.Equal("success", (await world.WaitForAsync(build, TimeSpan.FromSeconds(60))).Status);
    }

    /// <summary>A second EmbeddedRunner service in the world's server, as a restarted `serve` would run it.</summary>
    static async Task<StartedService> StartEmbeddedAsync(RunnerWorld world, IConfiguration config)
    {
        var runner = ActivatorUtilities.CreateInstance<EmbeddedRunner>(world.Services, config);
        await runner.StartAsync(CancellationToken.None);
        return new StartedService(runner);
    }

    sealed class StartedService(EmbeddedRunner runner) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await runner.StopAsync(CancellationToken.None);
            runner.Dispose();
        }
    }

    [Theory]
    [InlineData("https://0.0.0.0:8443|http://[::]:8080", "http://127.0.0.1:8080/")]
    [InlineData("http://+:8080", "http://127.0.0.1:8080/")]
    [InlineData("https://*:8443", "https://127.0.0.1:8443/")]
    [InlineData("unix:/run/odooops.sock", null)]
    public void The_loopback_address_prefers_http_and_replaces_wildcard_hosts(string addresses, string? expected) =>
        Assert.Equal(expected, EmbeddedRunner.LoopbackUrl(addresses.Split('|'))?.ToString());
}
