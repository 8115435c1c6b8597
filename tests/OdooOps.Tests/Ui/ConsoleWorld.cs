using System.Net;
using System.Text.RegularExpressions;
using Dapper;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Ui;

/// <summary>
/// One in-memory server for the console's HTTP tests: org A with a signed-in client per role, org B with its owner.
/// Tests that change data make their own project (unique slug), so they do not depend on each other's order.
/// </summary>
public sealed partial class ConsoleWorld(PostgresCluster cluster) : IAsyncLifetime
{
    public static readonly string[] Roles = ["owner", "admin", "developer", "tester", "viewer"];

    public OdooOpsFactory Factory { get; private set; } = null!;
    public Guid OrgA { get; private set; }
    public Guid OrgB { get; private set; }
    public Guid OrgEmpty { get; private set; }
    readonly Dictionary<string, HttpClient> _clients = [];
    int _counter;

    public async ValueTask InitializeAsync()
    {
        Factory = await OdooOpsFactory.CreateAsync(cluster, "console");
        OrgA = await Accounts.CreateOrgAsync(Factory.Owner, "org-a");
        OrgB = await Accounts.CreateOrgAsync(Factory.Owner, "org-b");
        foreach (var role in Roles)
            await Accounts.CreateUserAsync(Factory.Owner, $"{role}@a.test", OrgA, role);
        await Accounts.CreateUserAsync(Factory.Owner, "owner@b.test", OrgB, "owner");
        OrgEmpty = await Accounts.CreateOrgAsync(Factory.Owner, "org-empty");
        await Accounts.CreateUserAsync(Factory.Owner, "owner@empty.test", OrgEmpty, "owner");
    }

    /// <summary>A client signed in as "{role}@a.test", "owner@b.test" for "b-owner" or "owner@empty.test" for "empty-owner";
    /// one sign-in per user (sign-ins are throttled per address).</summary>
    public async Task<HttpClient> ClientAsync(string who)
    {
        if (_clients.TryGetValue(who, out var existing)) return existing;
        var client = Factory.CreateClient(new() { AllowAutoRedirect = false });
        var signIn = await Accounts.SignInAsync(client, who switch { "b-owner" => "owner@b.test", "empty-owner" => "owner@empty.test", _ => $"{who}@a.test" });
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        return _clients[who] = client;
    }

    public HttpClient Anonymous() => Factory.CreateClient(new() { AllowAutoRedirect = false });

    public string Unique(string prefix) => $"{prefix}-{Interlocked.Increment(ref _counter)}";

    /// <summary>A project in org A with main (production), staging and feature-x (development).</summary>
    public async Task<(Guid Id, string Slug)> NewProjectAsync(Guid? org = null)
    {
        var slug = Unique("proj");
        return (await Accounts.CreateProjectAsync(Factory.Owner, org ?? OrgA, slug), slug);
    }

    public async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var conn = await Accounts.OpenAsync(Factory.Owner);
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    public async Task ExecuteAsync(string sql, object? args = null)
    {
        await using var conn = await Accounts.OpenAsync(Factory.Owner);
        await conn.ExecuteAsync(sql, args);
    }

    public Task<string> StageAsync(Guid projectId, string branch) =>
        ScalarAsync<string>("select stage from ops.branches where project_id = @projectId and name = @branch", new { projectId, branch });

    public Task<Guid> BranchIdAsync(Guid projectId, string branch) =>
        ScalarAsync<Guid>("select id from ops.branches where project_id = @projectId and name = @branch", new { projectId, branch });

    /// <summary>Posts a console form the way a browser does: the page's antiforgery token (unless left out), _handler and fields.</summary>
    public static async Task<HttpResponseMessage> PostFormAsync(HttpClient client, string url, string handler,
        Dictionary<string, string> fields, bool withToken = true)
    {
        var form = new Dictionary<string, string>(fields) { ["_handler"] = handler };
        if (withToken) form["__RequestVerificationToken"] = TokenOf(await client.GetStringAsync(url));
        return await client.PostAsync(url, new FormUrlEncodedContent(form));
    }

    public static string TokenOf(string html) => AntiforgeryField().Match(html) is { Success: true } m
        ? WebUtility.HtmlDecode(m.Groups[1].Value)
        : throw new InvalidOperationException("The page has no antiforgery token.");

    /// <summary>The markup of one form field block (label, input, messages), found by its data-field name.</summary>
    public static string FieldBlock(string html, string field) =>
        Regex.Match(html, $"<div class=\"field[^\"]*\" data-field=\"{field}\">(.*?)</div>", RegexOptions.Singleline) is { Success: true } m
            ? m.Groups[1].Value
            : throw new InvalidOperationException($"No field block '{field}' in the page.");

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients.Values) client.Dispose();
        await Factory.DisposeAsync();
    }
}
