using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;
using OdooOps.Webhooks;

namespace OdooOps.Tests.Webhooks;

/// <summary>What a hook request got back: status, media type and the body's text.</summary>
public sealed record HookReply(HttpStatusCode Status, string? MediaType, string Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();
    public override string ToString() => $"{(int)Status} {MediaType} {Body}";
}

/// <summary>
/// Hooks as GitHub and GitLab send them: their payload shapes (trimmed to what matters plus some of the rest), the
/// exact bytes signed with HMAC-SHA256 (GitHub) or the secret in X-Gitlab-Token (GitLab).
/// </summary>
public static class HookRequests
{
    public const string Zero = "0000000000000000000000000000000000000000";

    /// <summary>A 40-hex commit id made of one repeated digit, e.g. Sha('a').</summary>
    public static string Sha(char digit) => new(digit, 40);

    static long _pushedAt = 1_770_000_000;

    /// <summary>
    /// A push as GitHub sends it; like GitHub's, each body is unique (repository.pushed_at, the time of the push), so two
    /// calls are two pushes and the same string sent twice is a replay.
    /// </summary>
    public static string GitHubPush(string gitRef, string after, string? message = "Fix the invoice report", string before = Zero, bool? deleted = null,
        string timestamp = "2026-02-12T17:30:00+01:00")
    {
        var isDeleted = deleted ?? after == Zero;
        var head = isDeleted ? null : new { id = after, message, timestamp, author = new { name = "Dev", email = "dev@example.com" } };
        return JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["ref"] = gitRef, ["before"] = before, ["after"] = after, ["created"] = before == Zero, ["deleted"] = isDeleted, ["forced"] = false,
            ["base_ref"] = null, ["compare"] = "https://github.com/acme/erp/compare/x...y",
            ["commits"] = head is null ? Array.Empty<object>() : new object[] { head }, ["head_commit"] = head,
            ["repository"] = new { id = 1, name = "erp", full_name = "acme/erp", @private = true, pushed_at = Interlocked.Increment(ref _pushedAt) },
            ["pusher"] = new { name = "dev", email = "dev@example.com" },
        });
    }

    public static string GitLabPush(string gitRef, string after, params (string Id, string Message)[] commits) =>
        GitLabPush(gitRef, after, commits.Select(c => (c.Id, c.Message, "2026-02-12T17:30:00+01:00")).ToArray());

    public static string GitLabPush(string gitRef, string after, (string Id, string Message, string Timestamp)[] commits) =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["object_kind"] = "push", ["event_name"] = "push", ["before"] = Zero, ["after"] = after, ["ref"] = gitRef,
            ["checkout_sha"] = after == Zero ? null : after, ["user_name"] = "Dev", ["project_id"] = 15,
            ["project"] = new { name = "erp", path_with_namespace = "acme/erp" },
            ["commits"] = commits.Select(c => new { id = c.Id, message = c.Message, title = c.Message.Split('\n')[0], timestamp = c.Timestamp }).ToArray(),
            ["total_commits_count"] = commits.Length,
        });

    public static string Sign(string secret, byte[] body) => "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    /// <param name="signature">The X-Hub-Signature-256 value; by default the body signed with <paramref name="secret"/> (none when that is null).</param>
    /// <param name="delivery">The X-GitHub-Delivery id; by default a new one, as for every delivery GitHub makes.</param>
    public static Task<HookReply> GitHubAsync(HttpClient http, Guid project, string? secret, string body, string githubEvent = "push",
        string contentType = "application/json", string? signature = null, string? delivery = null)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var request = new HttpRequestMessage(HttpMethod.Post, WebhooksApi.GitHubPath(project)) { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.Add(GitHubHook.EventHeader, githubEvent);
        request.Headers.Add(GitHubHook.DeliveryHeader, delivery ?? Guid.NewGuid().ToString());
        if ((signature ?? (secret is null ? null : Sign(secret, bytes))) is { } value) request.Headers.Add(GitHubHook.SignatureHeader, value);
        return SendAsync(http, request);
    }

    /// <param name="headers">More headers, e.g. Idempotency-Key.</param>
    public static Task<HookReply> GitLabAsync(HttpClient http, Guid project, string? token, string body, string gitlabEvent = "Push Hook",
        string contentType = "application/json", params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, WebhooksApi.GitLabPath(project)) { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.Add(GitLabHook.EventHeader, gitlabEvent);
        if (token is not null) request.Headers.Add(GitLabHook.TokenHeader, token);
        foreach (var (name, value) in headers) request.Headers.Add(name, value);
        return SendAsync(http, request);
    }

    static async Task<HookReply> SendAsync(HttpClient http, HttpRequestMessage request)
    {
        using (request)
        using (var response = await http.SendAsync(request))
            return new HookReply(response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync());
    }

    /// <summary>A new project of tenant A (main/staging/feature-x) with a webhook secret made through the API by its owner.</summary>
    public static async Task<(Guid Project, string Secret)> NewProjectWithSecretAsync(ApiWorld world)
    {
        var project = await world.NewProjectAsync(world.A);
        return (project, await RotateAsync(world, project));
    }

    public static async Task<string> RotateAsync(ApiWorld world, Guid project, string actor = "owner")
    {
        var response = await world.Client(actor).PostAsync($"/api/ops/projects/{project}/webhook/rotate", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("secret").GetString()!;
    }

    /// <summary>Everything a hook may change, as the owner sees it: the fingerprint of every table plus audit rows.</summary>
    public static async Task<string> StateAsync(ApiWorld world)
    {
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        return await world.FingerprintAsync() + "/" + await conn.ExecuteScalarAsync<long>("select count(*) from ops.audit_log") + "/" +
               await conn.ExecuteScalarAsync<long>("select count(*) from ops.run_queue");
    }

    public static async Task<T> ScalarAsync<T>(ApiWorld world, string sql, object? args = null)
    {
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }
}
