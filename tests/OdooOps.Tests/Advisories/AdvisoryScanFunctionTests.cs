using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Dapper;
using OdooOps.Advisories;
using OdooOps.Database;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Advisories;

/// <summary>POST /functions/v1/ops-advisory-scan: the seed's curl, its token, its optional body, and "unavailable".</summary>
public sealed class AdvisoryScanFunctionTests(AdvisoryWorld world, PostgresCluster cluster) : IClassFixture<AdvisoryWorld>
{
    /// <summary>Step 4 of the seed's checklist, byte for byte but for the host.</summary>
    const string SeedCurl = """
        curl -X POST https://spdtwktxdalcfigzeqrz.supabase.co/functions/v1/ops-advisory-scan \
          -H "content-type: application/json" \
          -H "x-ops-advisory-token: $OPS_ADVISORY_SCAN_TOKEN"
        """;

    [Fact]
    public async Task The_seeds_curl_against_a_real_server_answers_advisories_created()
    {
        await using var server = await LiveServer.StartAsync(cluster, "advcurl");
        var org = await Accounts.CreateOrgAsync(server.Owner, "curl-org");
        await Accounts.CreateProjectAsync(server.Owner, org, "bare", withBranches: false); // something to create

        string body;
        if (File.Exists("/usr/bin/curl") || File.Exists("/bin/curl"))
        {
            var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(SeedCurl.Replace("https://spdtwktxdalcfigzeqrz.supabase.co", server.Url));
            psi.Environment["OPS_ADVISORY_SCAN_TOKEN"] = TestHosts.AdvisoryScanToken;
            using var curl = Process.Start(psi)!;
            body = await curl.StandardOutput.ReadToEndAsync();
            var error = await curl.StandardError.ReadToEndAsync();
            await curl.WaitForExitAsync();
            Assert.True(curl.ExitCode == 0, error);
        }
        else
        {
            // The same request without curl: POST, both headers, no body.
            using var http = new HttpClient();
            using var request = new HttpRequestMessage(HttpMethod.Post, server.Url + AdvisoryScanApi.Route) { Content = new ByteArrayContent([]) };
            request.Content.Headers.TryAddWithoutValidation("content-type", "application/json");
            request.Headers.Add("x-ops-advisory-token", TestHosts.AdvisoryScanToken);
            body = await (await http.SendAsync(request)).Content.ReadAsStringAsync();
        }

        using var json = JsonDocument.Parse(body);
        Assert.Equal(1, json.RootElement.GetProperty("advisories_created").GetInt32());
        Assert.Equal(["advisories_created", "advisories_resolved", "projects_scanned"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(2, json.RootElement.GetProperty("projects_scanned").GetInt32()); // "bare" and the OdooOps system project
    }

    public static TheoryData<string?, string?> EmptyBodies => new()
    {
        { null, null }, { "", "application/json" }, { "", null }, { "  \n", "application/json" }, { "{}", "application/json" },
        { """{"project_id": null}""", "application/json" }, { "", "application/x-www-form-urlencoded" }, // curl -d ''

    };

    [Theory]
    [MemberData(nameof(EmptyBodies))]
    public async Task No_body_or_no_project_scans_every_project(string? body, string? contentType)
    {
        var response = await SendAsync(TestHosts.AdvisoryScanToken, body, contentType);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var projects = await world.Scalar<int>("select count(*) from ops.projects where archived_at is null");
        Assert.Equal(projects, json.RootElement.GetProperty("projects_scanned").GetInt32());
    }

    [Theory]
    [InlineData("""{"project_id": "not-a-uuid"}""", "project_id")]
    [InlineData("""{"project_id": 42}""", "project_id")]
    [InlineData("""[1, 2]""", "body")]
    [InlineData("""{"project_id": """, "body")]
    public async Task A_bad_body_names_the_field(string body, string field)
    {
        var response = await SendAsync(TestHosts.AdvisoryScanToken, body, "application/json");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_415() =>
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await SendAsync(TestHosts.AdvisoryScanToken, "project_id=1", "application/x-www-form-urlencoded")).StatusCode);

    [Fact]
    public async Task An_unknown_or_archived_project_is_404()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(TestHosts.AdvisoryScanToken, $$"""{"project_id": "{{Guid.NewGuid()}}"}""", "application/json")).StatusCode);
        var archived = await world.NewProjectAsync();
        await world.Execute("update ops.projects set archived_at = now() where id = @archived", new { archived });
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(TestHosts.AdvisoryScanToken, $$"""{"project_id": "{{archived}}"}""", "application/json")).StatusCode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("wrong-token")]
    [InlineData(TestHosts.IngestToken)] // the other shared secret is not this one
    [InlineData(TestHosts.AdvisoryScanToken + "x")]
    public async Task A_wrong_or_missing_token_is_401_without_a_hint_and_changes_nothing(string? token)
    {
        var project = await Accounts.CreateProjectAsync(world.Owner, world.OrgA, world.Unique("bare"), withBranches: false);
        var before = await FootprintAsync();
        var response = await SendAsync(token, $$"""{"project_id": "{{project}}"}""", "application/json");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Send the advisory scan token in the x-ops-advisory-token header.", json.RootElement.GetProperty("detail").GetString());
        Assert.Equal(before, await FootprintAsync());
    }

    [Fact]
    public async Task A_rule_that_cannot_run_is_unavailable_and_keeps_its_advisories()
    {
        var project = await world.NewProjectAsync();
        var main = await world.BranchAsync(project, "main");
        await world.Execute("""
            insert into ops.metric_samples (project_id, branch_id, metric, ts, value)
            select @project, @main, 'cpu_pct', now() - make_interval(mins => i), 97 from generate_series(1, 5) i
            """, new { project, main });
        await world.ScanAsync(project);
        var cpu = Assert.Single(await world.AdvisoriesAsync(project, "cpu_high"));

        // The samples are gone (the condition cleared) but the metric table is also unreadable: not "clean".
        await world.Execute("delete from ops.metric_samples where project_id = @project; update ops.projects set runtime_version = '15.0' where id = @project", new { project });
        await world.Execute("alter table ops.metric_samples rename to metric_samples_offline");
        try
        {
            var answer = await world.ScanAsync(project);
            Assert.Equal(["cpu_high", "memory_high", "metrics_missing"], answer.GetProperty("unavailable").EnumerateArray().Select(e => e.GetString()).Order());
            Assert.Equal((1, 0), (answer.GetProperty("advisories_created").GetInt32(), answer.GetProperty("advisories_resolved").GetInt32())); // the other rules ran
            Assert.Single(await world.AdvisoriesAsync(project, "runtime_unsupported"));
            Assert.Equal("open", Assert.Single(await world.AdvisoriesAsync(project, "cpu_high")).Status);
        }
        finally { await world.Execute("alter table ops.metric_samples_offline rename to metric_samples"); }

        var readable = await world.ScanAsync(project);
        Assert.False(readable.TryGetProperty("unavailable", out _));
        Assert.Equal("resolved", (await world.AdvisoriesAsync(project, "cpu_high")).Single(r => r.Id == cpu.Id).Status);
    }

    [Fact]
    public async Task Server_metrics_that_cannot_be_read_are_unavailable_and_hold_the_advisory()
    {
        world.Probe.Next = RuleScenario.Healthy with { PoolUsed = 48, PoolUsagePct = 96 };
        await world.ScanAsync(RuleScenario.SystemProject);
        var pool = Assert.Single(await world.AdvisoriesAsync(RuleScenario.SystemProject, "db_pool_saturated"), r => r.Status == "open");

        world.Probe.Next = RuleScenario.Healthy with { Pool = null, PoolUsed = 0, PoolMax = 0, PoolUsagePct = null, Unavailable = ["db_pool_saturated"] };
        var answer = await world.ScanAsync();
        Assert.Equal(["db_pool_saturated"], answer.GetProperty("unavailable").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("open", (await world.AdvisoriesAsync(RuleScenario.SystemProject)).Single(r => r.Id == pool.Id).Status);
        world.Probe.Next = RuleScenario.Healthy;
        await world.ScanAsync(RuleScenario.SystemProject);
    }

    [Fact]
    public async Task The_system_project_is_visible_to_system_admins_only_through_membership()
    {
        world.Probe.Next = RuleScenario.Healthy with { P95Ms = 2000 };
        await world.ScanAsync();
        var system = RuleScenario.SystemProject.ToString();

        var adminList = await world.Client("sysadmin").GetStringAsync($"/api/ops/advisories?project={system}");
        Assert.Contains("request_p95_high", adminList);
        Assert.Contains("\"project_slug\":\"odooops\"", adminList);
        Assert.Contains("odooops", await world.Client("sysadmin").GetStringAsync("/api/ops/projects"));
        Assert.DoesNotContain(system, await world.Client("owner").GetStringAsync("/api/ops/advisories?status=all"));
        Assert.Equal(HttpStatusCode.NotFound, (await world.Client("owner").GetAsync($"/api/ops/projects/{system}")).StatusCode);

        // Demoted: the next scan takes the membership away.
        await world.Execute("update registry.users set is_system_admin = false where email = 'sysadmin@odooops.test'");
        world.Probe.Next = RuleScenario.Healthy;
        await world.ScanAsync();
        Assert.DoesNotContain(system, await world.Client("sysadmin").GetStringAsync("/api/ops/advisories?status=all"));
        await world.Execute("update registry.users set is_system_admin = true where email = 'sysadmin@odooops.test'");
        await world.ScanAsync();
    }

    [Fact]
    public async Task Only_the_service_login_may_run_the_scan_and_the_rules_are_nobodys()
    {
        await using var owner = await Accounts.OpenAsync(world.Owner);
        foreach (var fn in new[] { "ops.run_advisory_scan(uuid, jsonb)", "ops.advisory_scan(uuid)", "ops.advisory_rule_cpu_high(uuid[], jsonb)", "ops.ensure_system_project()" })
        {
            var grants = await owner.QuerySingleAsync<(bool App, bool Service, bool Public)>(RequestRoles.For(owner.Database).Substitute("""
                select has_function_privilege('ops_app', @fn::regprocedure, 'execute'), has_function_privilege('ops_service', @fn::regprocedure, 'execute'),
                       has_function_privilege('public', @fn::regprocedure, 'execute')
                """), new { fn });
            Assert.Equal((false, fn.Contains("scan"), false), grants);
        }
    }

    async Task<HttpResponseMessage> SendAsync(string? token, string? body, string? contentType)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, AdvisoryScanApi.Route);
        if (token is not null) request.Headers.TryAddWithoutValidation(AdvisoryScanApi.TokenHeader, token);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = contentType is null ? null : new(contentType);
        }
        else if (contentType is not null)
        {
            request.Content = new ByteArrayContent([]);
            request.Content.Headers.ContentType = new(contentType);
        }
        return await world.Client().SendAsync(request);
    }

    Task<string> FootprintAsync() => world.Scalar<string>("""
        select md5(concat_ws('|',
            (select string_agg(t::text, ',' order by t.id) from ops.advisories t),
            (select string_agg(t::text, ',' order by t.org_id, t.user_id) from registry.org_members t)))
        """);
}
