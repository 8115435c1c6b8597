using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Cli.Doctor;

/// <summary>`odooops doctor` against a live server on a migrated database, and against one that is not there.</summary>
public sealed class DoctorTests(PostgresCluster cluster) : IDisposable
{
    readonly CliSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    static string Row(CliRunner.Result r, string name) =>
        r.Output.Split('\n').SingleOrDefault(l => l.Length > 2 && l[2..].StartsWith(name + " ", StringComparison.Ordinal))
        ?? throw new Xunit.Sdk.XunitException($"doctor printed no '{name}' row:\n{r.Output}{r.Error}");

    [Fact]
    public async Task All_green_against_a_live_server_with_a_token()
    {
        await using var server = await LiveServer.StartAsync(cluster, "doctor");
        var org = await Accounts.CreateOrgAsync(server.Owner, "acme");
        var token = await Accounts.CreateTokenAsync(server.Owner, await Accounts.CreateUserAsync(server.Owner, "ops@acme.test", org, "owner"));
        await Accounts.CreateProjectAsync(server.Owner, org, "erp");

        var r = await _sandbox.RunAsync(["doctor", "--url", server.Url, "--database-url", CliSandbox.Url(server.Owner)],
            new Dictionary<string, string>
            {
                ["ODOOOPS_TOKEN"] = token,
                ["OPS_INGEST_TOKEN"] = TestHosts.IngestToken,
                ["OPS_ADVISORY_SCAN_TOKEN"] = TestHosts.AdvisoryScanToken,
            });
        Assert.True(r.ExitCode == 0, r.Output + r.Error);
        foreach (var name in new[] { "Database reachable", "Migrations applied", "Functions present", "RLS on every table",
                     "Secret: data-protection keys", "Secret: OPS_INGEST_TOKEN", "Secret: OPS_ADVISORY_SCAN_TOKEN", "UI serving", "API answering", "Projects page", "Build trigger", "Metrics ingest", "Advisory scan" })
            Assert.StartsWith("✓", Row(r, name));
        Assert.Contains("/api/ops/projects lists 1 project(s)", Row(r, "API answering"));
        Assert.Contains("302 /login?returnUrl=", Row(r, "Projects page"));
        // Pages still to come, features of later issues, and an external database's password file do not fail the run.
        Assert.Contains("400 naming project_id", Row(r, "Build trigger"));
        Assert.Contains("404 for an unknown project", Row(r, "Metrics ingest"));
        Assert.Matches(@"refuses a wrong token \(401\) and scanned [0-9]+ project", Row(r, "Advisory scan"));
        foreach (var name in new[] { "Secret: database password file", "Demo data" })
            Assert.StartsWith("–", Row(r, name));
        Assert.Matches("^[✓–] ", Row(r, "Branches page"));
        Assert.Contains(" 0 failed", r.Output);
        Assert.DoesNotContain("✗", r.Output);
    }

    [Fact]
    public async Task Missing_or_weak_shared_secrets_fail_and_are_named()
    {
        var owner = await cluster.CreateDatabaseAsync("doctorsecrets");
        var r = await _sandbox.RunAsync(["doctor", "--url", "http://127.0.0.1:9", "--database-url", CliSandbox.Url(owner)],
            new Dictionary<string, string> { ["OPS_ADVISORY_SCAN_TOKEN"] = "changeme" });
        Assert.Equal(1, r.ExitCode);
        Assert.Matches("^✗ .*missing", Row(r, "Secret: OPS_INGEST_TOKEN"));
        Assert.Matches("^✗ .*too weak", Row(r, "Secret: OPS_ADVISORY_SCAN_TOKEN"));
        Assert.DoesNotContain("changeme", r.Output);
    }

    [Fact]
    public async Task Fails_when_the_server_cannot_be_reached()
    {
        var owner = await cluster.CreateDatabaseAsync("doctordown");
        var r = await _sandbox.RunAsync(["doctor", "--url", "http://127.0.0.1:9", "--database-url", CliSandbox.Url(owner)]);
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("✓", Row(r, "Database reachable"));
        foreach (var name in new[] { "UI serving", "API answering", "Projects page", "Branches page", "Build trigger", "Metrics ingest", "Advisory scan" })
            Assert.Matches("^✗ .*cannot reach http://127.0.0.1:9", Row(r, name));
    }

    [Fact]
    public async Task Fails_when_the_database_cannot_be_reached()
    {
        var r = await _sandbox.RunAsync(["doctor", "--url", "http://127.0.0.1:9", "--database-url", "postgresql://nobody:x@127.0.0.1:1/none"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Matches("^✗ Database reachable +.*127.0.0.1:1", Row(r, "Database reachable"));
        Assert.Matches("^✗ .*needs the database", Row(r, "Migrations applied"));
    }
}
