using System.Net;
using System.Text.Json;
using Dapper;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;
using static OdooOps.Tests.Webhooks.HookRequests;

namespace OdooOps.Tests.Webhooks;

/// <summary>
/// Every refusal of the hook endpoints: its status, a ProblemDetails body, and nothing changed. Authentication
/// failures all read the same, whether the project is unknown, has no secret, or the signature is wrong or missing.
/// </summary>
public sealed class HookRefusalTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    HttpClient Http => world.Client(null);

    public static TheoryData<string> Signatures => new()
    {
        "missing", "wrong secret", "another body", "upper-case prefix", "sha1", "not hex", "truncated", "unknown project", "project without secret",
        "archived project",
    };

    [Theory]
    [MemberData(nameof(Signatures))]
    public async Task A_bad_or_missing_signature_is_the_same_401_and_changes_nothing(string kind)
    {
        var (project, secret) = await NewProjectWithSecretAsync(world);
        var body = GitHubPush("refs/heads/feature/x", Sha('a'));
        var good = Sign(secret, System.Text.Encoding.UTF8.GetBytes(body));
        var target = project;
        string? signature = kind switch
        {
            "missing" => null,
            "wrong secret" => Sign(secret + "x", System.Text.Encoding.UTF8.GetBytes(body)),
            "another body" => Sign(secret, System.Text.Encoding.UTF8.GetBytes(body + " ")),
            "upper-case prefix" => "SHA256=" + good[7..],
            "sha1" => "sha1=" + good[7..47],
            "not hex" => "sha256=" + new string('z', 64),
            "truncated" => good[..^2],
            _ => good,
        };
        if (kind == "unknown project") target = Guid.NewGuid();
        if (kind == "project without secret") target = await world.NewProjectAsync(world.A);
        if (kind == "archived project")
            await ScalarAsync<int>(world, "update ops.projects set archived_at = now() where id = @project returning 1", new { project });
        var before = await StateAsync(world);

        var reply = await GitHubAsync(Http, target, null, body, signature: signature);

        Assert.True(reply.Status == HttpStatusCode.Unauthorized, $"{kind}: {reply}");
        Assert.Equal("application/problem+json", reply.MediaType);
        Assert.Equal("The hook could not be authenticated with a webhook secret of this project.", reply.Json.GetProperty("detail").GetString());
        Assert.Equal(before, await StateAsync(world));
    }

    [Fact]
    public async Task The_unknown_project_answer_is_byte_for_byte_the_wrong_secret_answer()
    {
        var (project, secret) = await NewProjectWithSecretAsync(world);
        var body = GitHubPush("refs/heads/main", Sha('a'));
        var wrong = await GitHubAsync(Http, project, secret + "x", body);
        var unknown = await GitHubAsync(Http, Guid.NewGuid(), secret, body);
        var gitlabWrong = await GitLabAsync(Http, project, "nope", GitLabPush("refs/heads/main", Sha('a')));
        var gitlabUnknown = await GitLabAsync(Http, Guid.NewGuid(), secret, GitLabPush("refs/heads/main", Sha('a')));
        Assert.Equal(wrong with { Body = Normalize(wrong.Body) }, unknown with { Body = Normalize(unknown.Body) });
        Assert.Equal(gitlabWrong with { Body = Normalize(gitlabWrong.Body) }, gitlabUnknown with { Body = Normalize(gitlabUnknown.Body) });
    }

    /// <summary>ProblemDetails carry a per-request trace id; everything else must match.</summary>
    static string Normalize(string problem)
    {
        var json = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(problem)!;
        Assert.True(json.Remove("trace_id"));
        return JsonSerializer.Serialize(json);
    }

    [Fact]
    public async Task Content_type_size_and_body_are_refused_with_their_status()
    {
        var (project, secret) = await NewProjectWithSecretAsync(world);
        var before = await StateAsync(world);
        var push = GitHubPush("refs/heads/feature/y", Sha('b'));

        var form = await GitHubAsync(Http, project, secret, "payload=" + Uri.EscapeDataString(push), contentType: "application/x-www-form-urlencoded");
        Assert.True(form.Status == HttpStatusCode.UnsupportedMediaType, form.ToString());
        Assert.Contains("application/json", form.Json.GetProperty("detail").GetString());
        Assert.Contains("form", form.Json.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await GitHubAsync(Http, project, secret, push, contentType: "text/plain")).Status);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await GitLabAsync(Http, project, secret, push, contentType: "application/xml")).Status);

        var huge = push[..^1] + ", \"padding\": \"" + new string('x', 1 << 20) + "\"}";
        var tooLarge = await GitHubAsync(Http, project, secret, huge);
        Assert.True(tooLarge.Status == HttpStatusCode.RequestEntityTooLarge, tooLarge.ToString());
        Assert.Equal("application/problem+json", tooLarge.MediaType);

        foreach (var (body, field) in new[]
                 {
                     ("""{"ref": "refs/heads/x", "after": """, "body"), ("[1, 2]", "body"), (push + " trailing", "body"),
                     ("""{"ref": "refs/heads/x"}""", "after"), ("""{"after": "0123"}""", "ref"),
                     ($$"""{"ref": "refs/heads/x", "after": "{{Sha('c')}}", "deleted": "no"}""", "deleted"),
                     ("""{"ref": "refs/heads/x", "after": "not-a-sha"}""", "after"),
                     ($$"""{"ref": "refs/heads/with space", "after": "{{Sha('c')}}"}""", "ref"),
                     ($$"""{"ref": "refs/heads/nul\u0000x", "after": "{{Sha('c')}}"}""", "ref"), // PostgreSQL text cannot hold NUL
                 })
        {
            var reply = await GitHubAsync(Http, project, secret, body);
            Assert.True(reply.Status == HttpStatusCode.BadRequest, $"{body}: {reply}");
            Assert.True(reply.Json.GetProperty("errors").TryGetProperty(field, out _), $"{body}: {reply}");
        }
        var noEvent = await GitLabAsync(Http, project, secret, push, gitlabEvent: "");
        Assert.Equal(HttpStatusCode.BadRequest, noEvent.Status);
        Assert.Equal(before, await StateAsync(world));
    }

    [Fact]
    public async Task A_full_queue_answers_429_and_creates_nothing_unless_the_push_supersedes_enough()
    {
        var (project, secret) = await NewProjectWithSecretAsync(world);
        await using (var conn = await Accounts.OpenAsync(world.Factory.Owner))
            await conn.ExecuteAsync("""
                insert into ops.builds (project_id, branch_id, status, trigger, commit_sha)
                select b.project_id, b.id, 'queued', 'push', lpad(to_hex(g), 8, '0') from ops.branches b cross join generate_series(1, 20) g
                 where b.project_id = @project and b.name = 'feature-x'
                """, new { project });
        var before = await StateAsync(world);

        var full = await GitHubAsync(Http, project, secret, GitHubPush("refs/heads/feature/new", Sha('d')));
        Assert.True(full.Status == HttpStatusCode.TooManyRequests, full.ToString());
        Assert.Equal("application/problem+json", full.MediaType);
        Assert.Equal(before, await StateAsync(world)); // not even the branch

        // A push to feature-x supersedes its 20 queued builds, so it fits.
        var superseding = await GitHubAsync(Http, project, secret, GitHubPush("refs/heads/feature-x", Sha('e')));
        Assert.True(superseding.Status == HttpStatusCode.Accepted, superseding.ToString());
        Assert.Equal(20, superseding.Json.GetProperty("cancelled_build_ids").GetArrayLength());
        Assert.Equal(1, await ScalarAsync<int>(world, "select count(*) from ops.builds where project_id = @project and status = 'queued'", new { project }));
    }
}
