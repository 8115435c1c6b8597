using System.Net;
using System.Text.Json;
using Dapper;
using Npgsql;
using OdooOps.Database;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Advisories;

/// <summary>
/// An advisory's history and the changes added for the console: GET /api/ops/advisories/{id} (the advisory with who
/// opened, suppressed, un-suppressed and resolved it), POST …/unsuppress, suppressing until a date, the org and rule
/// filters of the list; nobody writes history but the advisories' own trigger.
/// </summary>
public sealed class AdvisoryHistoryApiTests(AdvisoryWorld world) : IClassFixture<AdvisoryWorld>
{
    Task<Guid> InsertAsync(Guid project, string rule = "test_rule", string severity = "warning") =>
        world.Scalar<Guid>("""
            insert into ops.advisories (project_id, rule, fingerprint, severity, title, detail, remediation)
            values (@project, @rule, @rule || ':' || gen_random_uuid(), @severity, 'Test advisory', 'What was measured', 'What to do')
            returning id
            """, new { project, rule, severity });

    static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    static string[] Events(JsonElement detail) =>
        [.. detail.GetProperty("history").EnumerateArray().Select(e => e.GetProperty("event").GetString()!)];

    Task<long> AuditRowsAsync(Guid advisory, string action) =>
        world.Scalar<long>("select count(*) from ops.audit_log where target_type = 'advisory' and target_id = @id and action = @action",
            new { id = advisory.ToString(), action });

    string Path(Guid project, Guid id, string verb) => $"/api/ops/projects/{project}/advisories/{id}/{verb}";

    [Fact]
    public async Task Suppress_then_unsuppress_is_in_the_history_with_who_until_when_and_why_and_audited()
    {
        var project = await world.NewProjectAsync();
        var id = await InsertAsync(project);
        await JsonAsync(await world.Client("developer").PostAsync(Path(project, id, "suppress"),
            AdvisoryWorld.Body(new { until = "2099-03-31", reason = "vendor fix due" })));
        var unsuppressed = await JsonAsync(await world.Client("developer").PostAsync(Path(project, id, "unsuppress"), null));
        Assert.Equal("open", unsuppressed.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, unsuppressed.GetProperty("suppressed_until").ValueKind);
        Assert.Equal(1, await AuditRowsAsync(id, "advisory.unsuppress"));

        var detail = await JsonAsync(await world.Client("viewer").GetAsync($"/api/ops/advisories/{id}"));
        Assert.Equal("What to do", detail.GetProperty("advisory").GetProperty("remediation").GetString());
        Assert.Equal(["opened", "suppressed", "unsuppressed"], Events(detail));
        var history = detail.GetProperty("history").EnumerateArray().ToList();
        Assert.Equal(JsonValueKind.Null, history[0].GetProperty("actor_user_id").ValueKind); // the scan (here: the owner's insert) opened it
        Assert.Equal("developer@adv-a.test", history[1].GetProperty("actor_email").GetString());
        Assert.Equal("vendor fix due", history[1].GetProperty("reason").GetString());
        Assert.Equal(new DateTime(2099, 4, 1, 0, 0, 0, DateTimeKind.Utc), history[1].GetProperty("suppressed_until").GetDateTime().ToUniversalTime()); // the end of the day
        Assert.Equal("developer@adv-a.test", history[2].GetProperty("actor_email").GetString());
    }

    [Fact]
    public async Task Unsuppressing_an_open_advisory_answers_it_unchanged_and_writes_nothing()
    {
        var project = await world.NewProjectAsync();
        var id = await InsertAsync(project);
        Assert.Equal("open", (await JsonAsync(await world.Client("developer").PostAsync(Path(project, id, "unsuppress"), null))).GetProperty("status").GetString());
        Assert.Equal(0, await AuditRowsAsync(id, "advisory.unsuppress"));
        Assert.Equal(["opened"], Events(await JsonAsync(await world.Client("developer").GetAsync($"/api/ops/advisories/{id}"))));
    }

    [Theory]
    [InlineData("tester", HttpStatusCode.Forbidden)]
    [InlineData("viewer", HttpStatusCode.Forbidden)]
    [InlineData("developer-read", HttpStatusCode.Forbidden)]
    [InlineData("b-owner", HttpStatusCode.NotFound)]
    public async Task Below_developer_or_from_another_tenant_unsuppress_changes_nothing(string actor, HttpStatusCode expected)
    {
        var project = await world.NewProjectAsync();
        var id = await InsertAsync(project);
        await world.Execute("update ops.advisories set status = 'suppressed', suppressed_until = now() + interval '1 day', suppress_reason = 'r' where id = @id", new { id });
        Assert.Equal(expected, (await world.Client(actor).PostAsync(Path(project, id, "unsuppress"), null)).StatusCode);
        Assert.Equal("suppressed", await world.Scalar<string>("select status from ops.advisories where id = @id", new { id }));
        Assert.Equal(0, await AuditRowsAsync(id, "advisory.unsuppress"));
    }

    [Fact]
    public async Task Another_tenant_cannot_read_an_advisory_or_its_history()
    {
        var theirs = await InsertAsync(await world.NewProjectAsync(inOrgB: true));
        Assert.Equal(HttpStatusCode.NotFound, (await world.Client("owner").GetAsync($"/api/ops/advisories/{theirs}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await world.Client("owner").GetAsync($"/api/ops/advisories/{Guid.NewGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await world.Client("b-owner").GetAsync($"/api/ops/advisories/{theirs}")).StatusCode);
    }

    [Fact]
    public async Task The_list_filters_by_organisation_and_rule()
    {
        var (mine, theirs) = (await world.NewProjectAsync(), await world.NewProjectAsync(inOrgB: true));
        var cpu = await InsertAsync(mine, "cpu_high_test");
        var other = await InsertAsync(mine, "other_rule_test");
        await InsertAsync(theirs, "cpu_high_test");

        var list = await JsonAsync(await world.Client("viewer").GetAsync($"/api/ops/advisories?org={world.OrgA}&rule=cpu_high_test"));
        Assert.Equal([cpu], list.GetProperty("advisories").EnumerateArray().Select(a => a.GetProperty("id").GetGuid()));
        var org = (await JsonAsync(await world.Client("viewer").GetAsync($"/api/ops/advisories?org={world.OrgA}"))).GetProperty("advisories")
            .EnumerateArray().Select(a => a.GetProperty("id").GetGuid()).ToList();
        Assert.Contains(other, org);
        Assert.Empty((await JsonAsync(await world.Client("viewer").GetAsync($"/api/ops/advisories?org={world.OrgB}"))).GetProperty("advisories").EnumerateArray());
    }

    [Theory]
    [InlineData("rule=CPU%20high", "rule")]
    [InlineData("org=demo", "org")]
    public async Task A_bad_filter_names_the_field(string query, string field)
    {
        var response = await world.Client("viewer").GetAsync($"/api/ops/advisories?{query}");
        var problem = await JsonAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), field);
    }

    [Fact]
    public async Task A_change_without_a_user_is_the_scans_and_nobody_can_write_history_by_hand()
    {
        var project = await world.NewProjectAsync();
        var id = await InsertAsync(project);
        await world.Execute("update ops.advisories set status = 'resolved', resolved_at = now() where id = @id", new { id }); // as the scan does: no user
        var detail = await JsonAsync(await world.Client("viewer").GetAsync($"/api/ops/advisories/{id}"));
        Assert.Equal(["opened", "resolved"], Events(detail));
        Assert.All(detail.GetProperty("history").EnumerateArray(), e => Assert.Equal(JsonValueKind.Null, e.GetProperty("actor_user_id").ValueKind));

        // The attack: a developer forges a step ("suppressed by the owner") straight into the history table.
        var developer = await world.Scalar<Guid>("select id from registry.users where email = 'developer@adv-a.test'");
        var owner = await world.Scalar<Guid>("select id from registry.users where email = 'owner@adv-a.test'");
        var app = (await LoginRoles.EnsureAsync(world.Owner)).App;
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(app.ConnectionString) { Pooling = false }.ConnectionString);
        await conn.OpenAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await conn.ExecuteAsync("select set_config('ops.user_id', @u, true)", new { u = developer.ToString() }, tx);
        var refused = await Assert.ThrowsAsync<PostgresException>(() => conn.ExecuteAsync("""
            insert into ops.advisory_events (advisory_id, project_id, event, actor_user_id, reason) values (@id, @project, 'suppressed', @owner, 'forged')
            """, new { id, project, owner }, tx));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
    }
}
