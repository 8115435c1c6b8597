using System.Net;
using System.Text.Json;
using Dapper;
using OdooOps.Audit;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Audit;

/// <summary>
/// GET /api/ops/orgs/{id}/audit and …/audit/export: filters by actor, action, target and dates; keyset pages that stay the
/// same while entries are written; the CSV export with the same filters, streamed, its formula cells defused; owners and
/// admins only, another tenant's log a 404, bad filters 400 naming the field.
/// </summary>
public sealed class AuditApiTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    /// <summary>An organisation of its own with <paramref name="n"/> entries, oldest first: actions cycle a.one, a.two, b.three; every
    /// third by the system; one a day back from now.</summary>
    async Task<(Guid Org, string Token)> OrgWithLogAsync(int n)
    {
        var owner = world.Factory.Owner;
        var org = await Accounts.CreateOrgAsync(owner, world.Unique("audit"));
        var user = await Accounts.CreateUserAsync(owner, $"{world.Unique("auditor")}@a.test", org, "admin");
        await using var conn = await Accounts.OpenAsync(owner);
        await conn.ExecuteAsync("""
            insert into ops.audit_log (org_id, actor_user_id, actor, action, target_type, target_id, after, created_at)
            select @org, case when g % 3 = 0 then null else @user end, case when g % 3 = 0 then 'system' else 'user' end,
                   (array['a.one', 'a.two', 'b.three'])[1 + g % 3], 'thing', 't' || g, jsonb_build_object('n', g), now() - make_interval(days => @n - g)
              from generate_series(1, @n) g order by g
            """, new { org, user, n });
        return (org, await Accounts.CreateTokenAsync(owner, user));
    }

    static async Task<JsonElement> PageAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    static List<long> Ids(JsonElement page) => [.. page.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("id").GetInt64())];

    HttpClient As(string token) => world.Client(null).WithToken(token);

    [Fact]
    public async Task Pages_follow_the_cursor_and_stay_the_same_while_entries_are_written()
    {
        var (org, token) = await OrgWithLogAsync(12);
        var first = await PageAsync(As(token), $"/api/ops/orgs/{org}/audit?limit=5");
        var cursor = first.GetProperty("next_cursor").GetInt64();
        var expected = Ids(await PageAsync(As(token), $"/api/ops/orgs/{org}/audit?limit=5&cursor={cursor}"));

        // New entries arrive between two page loads: the older page does not shift.
        await using (var conn = await Accounts.OpenAsync(world.Factory.Owner))
            await conn.ExecuteAsync("insert into ops.audit_log (org_id, actor, action) select @org, 'system', 'new.entry' from generate_series(1, 3)", new { org });
        var second = await PageAsync(As(token), $"/api/ops/orgs/{org}/audit?limit=5&cursor={cursor}");
        Assert.Equal(expected, Ids(second));
        Assert.True(Ids(second).Max() < Ids(first).Min());
        var third = await PageAsync(As(token), $"/api/ops/orgs/{org}/audit?limit=5&cursor={second.GetProperty("next_cursor").GetInt64()}");
        Assert.Equal(2, Ids(third).Count);
        Assert.Equal(JsonValueKind.Null, third.GetProperty("next_cursor").ValueKind);
        Assert.Equal(12, Ids(first).Concat(Ids(second)).Concat(Ids(third)).Distinct().Count());
    }

    [Fact]
    public async Task Filters_by_actor_action_target_and_dates()
    {
        var (org, token) = await OrgWithLogAsync(9);
        string Url(string q) => $"/api/ops/orgs/{org}/audit?{q}";
        int Count(JsonElement p) => p.GetProperty("entries").GetArrayLength();

        Assert.Equal(3, Count(await PageAsync(As(token), Url("actor=system"))));
        string email;
        await using (var conn = await Accounts.OpenAsync(world.Factory.Owner))
            email = await conn.ExecuteScalarAsync<string>("select u.email from registry.users u join registry.org_members m on m.user_id = u.id where m.org_id = @org", new { org }) ?? "";
        Assert.Equal(6, Count(await PageAsync(As(token), Url($"actor={Uri.EscapeDataString(email.ToUpperInvariant())}"))));
        Assert.Equal(3, Count(await PageAsync(As(token), Url("action=a.two"))));
        Assert.Equal(6, Count(await PageAsync(As(token), Url("action=a.*"))));
        Assert.Equal(1, Count(await PageAsync(As(token), Url("target=thing:t4"))));
        Assert.Equal(1, Count(await PageAsync(As(token), Url("target=t4"))));
        Assert.Equal(9, Count(await PageAsync(As(token), Url("target=thing"))));
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd");
        var twoDaysAgo = DateTime.UtcNow.AddDays(-2).ToString("yyyy-MM-dd");
        Assert.Equal(3, Count(await PageAsync(As(token), Url($"from={twoDaysAgo}&to={today}")))); // whole days, both included
        Assert.Equal(1, Count(await PageAsync(As(token), Url($"from={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(-12).ToString("yyyy-MM-ddTHH:mm:sszzz"))}"))));
    }

    [Theory]
    [InlineData("from=yesterday", "from")]
    [InlineData("to=2030-01-01T10:00:00", "to")] // a time without offset
    [InlineData("from=2030-02-01&to=2030-01-01", "to")]
    [InlineData("action=DROP%20TABLE", "action")]
    [InlineData("actor=not%20an%20actor", "actor")]
    [InlineData("limit=0", "limit")]
    [InlineData("cursor=-5", "cursor")]
    public async Task A_bad_filter_names_the_field(string query, string field)
    {
        var response = await world.Client("admin").GetAsync($"/api/ops/orgs/{world.A.OrgId}/audit?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.GetProperty("errors").TryGetProperty(field, out _), field);
        var export = await world.Client("admin").GetAsync($"/api/ops/orgs/{world.A.OrgId}/audit/export?{query}");
        if (field is not ("limit" or "cursor")) Assert.Equal(HttpStatusCode.BadRequest, export.StatusCode);
    }

    [Theory]
    [InlineData("developer", HttpStatusCode.Forbidden)]
    [InlineData("viewer", HttpStatusCode.Forbidden)]
    [InlineData("b-owner", HttpStatusCode.NotFound)]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    public async Task Only_the_organisations_owners_and_admins_read_or_export_it(string? actor, HttpStatusCode expected)
    {
        Assert.Equal(expected, (await world.Client(actor).GetAsync($"/api/ops/orgs/{world.A.OrgId}/audit")).StatusCode);
        Assert.Equal(expected, (await world.Client(actor).GetAsync($"/api/ops/orgs/{world.A.OrgId}/audit/export")).StatusCode);
    }

    [Fact]
    public async Task The_export_is_csv_with_the_filters_and_defuses_formula_cells()
    {
        var (org, token) = await OrgWithLogAsync(4);
        // The attack: someone gets text that a spreadsheet runs as a formula into the log (a target, a detail).
        await using (var conn = await Accounts.OpenAsync(world.Factory.Owner))
            await conn.ExecuteAsync("""
                insert into ops.audit_log (org_id, actor, action, target_type, target_id, after)
                values (@org, 'webhook', 'a.one', '+thing', '=HYPERLINK("http://evil.example","x")', '{"name": "-2+3"}'),
                       (@org, 'webhook', 'a.one', '@SUM(A1)', 'plain, with "quotes"', null)
                """, new { org });
        var response = await As(token).GetAsync($"/api/ops/orgs/{org}/audit/export?action=a.one");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("attachment", response.Content.Headers.ContentDisposition?.ToString());
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("id,time_utc,actor,actor_kind,action,target_type,target_id,project,ip,before,after", lines[0]);
        Assert.Equal(1 + 3, lines.Length); // the header, the two planted rows (newest first) and the one a.one of the four before
        Assert.All(lines.Skip(1), l => Assert.Contains(",a.one,", l));
        Assert.Contains(",'@SUM(A1),\"plain, with \"\"quotes\"\"\",", lines[1]);
        Assert.Contains(",'+thing,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",", lines[2]);
        Assert.DoesNotContain(lines.Skip(1).SelectMany(l => l.Split(',')), cell => cell.Length > 0 && cell[0] is '=' or '+' or '-' or '@');
    }

    [Theory]
    [InlineData("=1+2", "'=1+2")]
    [InlineData("-3", "'-3")]
    [InlineData("@x", "'@x")]
    [InlineData("+x", "'+x")]
    [InlineData("\tx", "'\tx")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("=a,b", "\"'=a,b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("line\nbreak", "\"line\nbreak\"")]
    [InlineData("plain", "plain")]
    [InlineData("", "")]
    public void A_cell_is_defused_then_quoted(string value, string cell) => Assert.Equal(cell, AuditCsv.Cell(value));
}
