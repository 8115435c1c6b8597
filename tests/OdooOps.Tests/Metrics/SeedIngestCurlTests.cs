using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Dapper;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Metrics;

/// <summary>
/// The seed's step 4, first curl, run by bash and curl exactly as written — headers, quoting and the multi-line body —
/// with only the host replaced by a live server's. Its project id (all zeros) is made a real project here, and the
/// answer must be the seed's expected line byte for byte: {"inserted": 2}.
/// </summary>
public sealed class SeedIngestCurlTests(PostgresCluster cluster)
{
    const string SeedHost = "https://spdtwktxdalcfigzeqrz.supabase.co";
    const string SeedProject = "00000000-0000-0000-0000-000000000000";
    static readonly DateTime SeedTs = new(2026, 2, 12, 17, 30, 0, DateTimeKind.Utc);

    /// <summary>The first curl of "### 4. Test Edge Functions" and the "# Expected:" answer written under it.</summary>
    static (string Curl, string Expected) SeedCurl()
    {
        var text = SeedSpec.Text;
        var section = text[text.IndexOf("### 4. Test Edge Functions", StringComparison.Ordinal)..];
        var start = section.IndexOf("curl -X POST", StringComparison.Ordinal);
        var end = section.IndexOf("}'", start, StringComparison.Ordinal) + 2;
        const string marker = "# Expected: ";
        var expectedAt = section.IndexOf(marker, end, StringComparison.Ordinal) + marker.Length;
        return (section[start..end], section[expectedAt..section.IndexOf('\n', expectedAt)]);
    }

    [Fact]
    public async Task The_seed_curl_answers_exactly_its_expected_line()
    {
        var (curl, expected) = SeedCurl();
        Assert.Equal("""{"inserted": 2}""", expected);
        Assert.Contains("-d '{\n    \"project_id\": \"" + SeedProject, curl); // the body goes as written, newlines and all

        // The seed ran at 2026-02-12 17:30 (UTC, as its ts says); a server whose clock reads that moment takes the
        // batch whatever today's date is. (Today, the same ts may be older than raw retention: see the next test.)
        await using var server = await IngestServer.StartAsync(cluster, clock: new FixedClock(new DateTimeOffset(SeedTs.AddMinutes(1))));
        await CreateSeedProjectAsync(server);

        var (exit, stdout, stderr) = await RunAsync(curl.Replace(SeedHost, server.Url));
        Assert.True(exit == 0, stderr);
        Assert.Equal(expected, stdout); // exact bytes: no newline, one space after the colon

        await using var conn = await server.OpenOwnerAsync();
        var rows = await conn.QueryAsync<(string, double, DateTime)>(
            "select metric, value, ts from ops.metric_samples where project_id = @p::uuid order by metric", new { p = SeedProject });
        Assert.Equal([("cpu_pct", 45.2, SeedTs), ("mem_mb", 1024d, SeedTs)], rows.Select(r => (r.Item1, r.Item2, r.Item3.ToUniversalTime())));

        // Run again: the same samples are duplicates now.
        Assert.Equal("""{"inserted": 0}""", (await RunAsync(curl.Replace(SeedHost, server.Url))).Stdout);
    }

    [Fact]
    public async Task On_the_real_clock_the_seed_ts_is_judged_against_raw_retention()
    {
        var (curl, _) = SeedCurl();
        await using var server = await IngestServer.StartAsync(cluster);
        await CreateSeedProjectAsync(server);
        var (exit, stdout, _) = await RunAsync(curl.Replace(SeedHost, server.Url));
        Assert.Equal(0, exit);
        if (DateTime.UtcNow - SeedTs > TimeSpan.FromDays(14))
        {
            Assert.Contains("\"status\":422", stdout);
            Assert.Contains("\"ts\":[", stdout);
            Assert.Equal(0, await server.SampleCountAsync());
        }
        else Assert.Equal("""{"inserted": 2}""", stdout);
    }

    static async Task CreateSeedProjectAsync(IngestServer server)
    {
        await using var conn = await server.OpenOwnerAsync();
        await conn.ExecuteAsync("""
            insert into ops.projects (id, org_id, name, slug, repo_url, runtime_version)
            values (@p::uuid, @OrgId, 'Production ERP', 'prod-erp', 'github.com/insightpulseai/odoo', '19.0');
            insert into ops.branches (project_id, name, stage, is_production) values (@p::uuid, 'main', 'production', true);
            """, new { p = SeedProject, server.OrgId });
    }

    /// <summary>bash + curl when curl is installed; otherwise the same request (method, headers, body text) by HttpClient.</summary>
    static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(string script)
    {
        var noCurl = !File.Exists("/usr/bin/curl") && !File.Exists("/bin/curl") && !File.Exists("/usr/local/bin/curl");
        if (noCurl || Environment.GetEnvironmentVariable("ODOOOPS_TEST_WITHOUT_CURL") == "1") return await SendLikeCurlAsync(script);
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        psi.Environment["OPS_INGEST_TOKEN"] = TestHosts.IngestToken;
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    static async Task<(int, string, string)> SendLikeCurlAsync(string script)
    {
        var url = Regex.Match(script, @"curl -X POST (\S+)").Groups[1].Value;
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(Regex.Match(script, "-d '(.*)'", RegexOptions.Singleline).Groups[1].Value),
        };
        foreach (Match h in Regex.Matches(script, "-H \"([^:]+): ([^\"]*)\""))
        {
            var value = h.Groups[2].Value.Replace("$OPS_INGEST_TOKEN", TestHosts.IngestToken);
            if (h.Groups[1].Value == "content-type") request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(value);
            else request.Headers.Add(h.Groups[1].Value, value);
        }
        using var http = new HttpClient();
        using var response = await http.SendAsync(request);
        return (0, await response.Content.ReadAsStringAsync(), "");
    }
}
