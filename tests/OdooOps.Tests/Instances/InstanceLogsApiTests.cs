using System.Net;
using System.Text.Json;
using OdooOps.Tests.Api;

namespace OdooOps.Tests.Instances;

/// <summary>GET /api/ops/instances/{id}/logs: the last lines, keyset paging by seq, minimum level and text filters, field errors.</summary>
public sealed class InstanceLogsApiTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    async Task<JsonElement> PageAsync(Guid instance, string query, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var response = await world.Client("viewer").GetAsync($"/api/ops/instances/{instance}/logs{query}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    static long[] Seqs(JsonElement page) => [.. page.GetProperty("lines").EnumerateArray().Select(l => l.GetProperty("seq").GetInt64())];

    async Task<Guid> InstanceWithLogAsync()
    {
        var project = await world.NewProjectAsync(world.A);
        var instance = await InstanceRows.InsertAsync(world.Factory.Owner, project, "main");
        await InstanceRows.AppendAsync(world.Factory.Owner, instance,
            ("INFO", "odoo.modules.loading: 42 modules loaded"),          // 0
            ("DEBUG", "odoo.sql_db: query took 3 ms"),                    // 1
            ("WARNING", "odoo.addons.account: Invoice 7 has no lines"),   // 2
            ("ERROR", "odoo.http: Exception during request handling"),     // 3
            ("INFO", "werkzeug: \"GET /web/invoice HTTP/1.1\" 200"),       // 4
            ("CRITICAL", "odoo.service.server: Failed to load registry")); // 5
        return instance;
    }

    [Fact]
    public async Task Without_after_seq_the_page_is_the_last_lines_oldest_first()
    {
        var instance = await InstanceWithLogAsync();
        var page = await PageAsync(instance, "?limit=2");
        Assert.Equal([4L, 5L], Seqs(page));
        Assert.Equal(5, page.GetProperty("next_after_seq").GetInt64());
        Assert.False(page.GetProperty("has_more").GetBoolean());
        Assert.Equal("running", page.GetProperty("state").GetString());
        var last = page.GetProperty("lines")[1];
        Assert.Equal(("CRITICAL", "odoo.service.server: Failed to load registry"), (last.GetProperty("level").GetString(), last.GetProperty("line").GetString()));
        Assert.Equal(JsonValueKind.String, last.GetProperty("ts").ValueKind);
    }

    [Fact]
    public async Task After_seq_pages_forward_without_skipping_or_repeating()
    {
        var instance = await InstanceWithLogAsync();
        var first = await PageAsync(instance, "?after_seq=-1&limit=4");
        Assert.Equal([0L, 1L, 2L, 3L], Seqs(first));
        Assert.True(first.GetProperty("has_more").GetBoolean());
        var second = await PageAsync(instance, $"?after_seq={first.GetProperty("next_after_seq").GetInt64()}&limit=4");
        Assert.Equal([4L, 5L], Seqs(second));
        Assert.False(second.GetProperty("has_more").GetBoolean());
        var none = await PageAsync(instance, "?after_seq=5");
        Assert.Empty(Seqs(none));
        Assert.Equal(5, none.GetProperty("next_after_seq").GetInt64());
    }

    [Theory]
    [InlineData("?level=warning&after_seq=-1", new long[] { 2, 3, 5 })]
    [InlineData("?level=ERROR", new long[] { 3, 5 })]
    [InlineData("?level=DEBUG&after_seq=-1", new long[] { 0, 1, 2, 3, 4, 5 })]
    [InlineData("?q=INVOICE", new long[] { 2, 4 })]
    [InlineData("?q=invoice&level=WARNING", new long[] { 2 })]
    [InlineData("?q=%25", new long[0])] // LIKE's wildcards are plain text here
    public async Task Level_is_a_minimum_and_q_a_case_insensitive_text(string query, long[] expected)
    {
        var instance = await InstanceWithLogAsync();
        Assert.Equal(expected, Seqs(await PageAsync(instance, query)));
    }

    [Theory]
    [InlineData("?level=LOUD", "level")]
    [InlineData("?limit=0", "limit")]
    [InlineData("?limit=5001", "limit")]
    [InlineData("?after_seq=-2", "after_seq")]
    public async Task Bad_parameters_are_named(string query, string field)
    {
        var instance = await InstanceWithLogAsync();
        var problem = await PageAsync(instance, query, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task A_long_text_filter_is_refused()
    {
        var instance = await InstanceWithLogAsync();
        var problem = await PageAsync(instance, $"?q={new string('x', 201)}", HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("q", out _));
    }
}
