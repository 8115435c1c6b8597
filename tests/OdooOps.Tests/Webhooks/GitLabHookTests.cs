using System.Net;
using Dapper;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;
using static OdooOps.Tests.Webhooks.HookRequests;

namespace OdooOps.Tests.Webhooks;

/// <summary>POST /hooks/gitlab/{project}: X-Gitlab-Token, Push Hook, deletions and tag pushes.</summary>
public sealed class GitLabHookTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    HttpClient Http => world.Client(null);

    [Fact]
    public async Task A_push_with_the_right_token_queues_the_checkout_sha_with_its_commit_message()
    {
        var (project, secret) = await NewProjectWithSecretAsync(world);
        var reply = await GitLabAsync(Http, project, secret,
            GitLabPush("refs/heads/feature/stock", Sha('7'), (Sha('6'), "Older commit"), (Sha('7'), "Stock: reserve on confirm")));

        Assert.True(reply.Status == HttpStatusCode.Accepted, reply.ToString());
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        var build = await conn.QuerySingleAsync<(string Trigger, string CommitSha, string CommitMessage, string Stage)>("""
            select b.trigger, b.commit_sha, b.commit_message, br.stage from ops.builds b join ops.branches br on br.id = b.branch_id
             where b.id = @id
            """, new { id = reply.Json.GetProperty("build_id").GetGuid() });
        Assert.Equal(("push", Sha('7'), "Stock: reserve on confirm", "development"), build);
        Assert.Equal(2, await conn.ExecuteScalarAsync<int>(
            "select count(*) from ops.audit_log where project_id = @project and actor = 'webhook' and actor_user_id is null and after->>'detail' = 'gitlab push'",
            new { project }));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("wrong-token")]
    [InlineData("{secret}x")]
    [InlineData("{secret-prefix}")]
    public async Task A_missing_or_wrong_token_is_401_and_changes_nothing(string? token)
    {
        var (project, secret) = await NewProjectWithSecretAsync(world);
        var before = await StateAsync(world);
        var reply = await GitLabAsync(Http, project, token?.Replace("{secret}", secret).Replace("{secret-prefix}", secret[..32]),
            GitLabPush("refs/heads/main", Sha('8'), (Sha('8'), "m")));
        Assert.True(reply.Status == HttpStatusCode.Unauthorized, reply.ToString());
        Assert.Equal("application/problem+json", reply.MediaType);
        Assert.Equal(before, await StateAsync(world));
    }

    [Fact]
    public async Task A_deleted_branch_is_archived_and_tag_pushes_are_ignored()
    {
        var (project, secret) = await NewProjectWithSecretAsync(world);
        var deleted = await GitLabAsync(Http, project, secret, GitLabPush("refs/heads/feature-x", Zero));
        Assert.True(deleted.Status == HttpStatusCode.OK, deleted.ToString());
        Assert.Equal("archived", deleted.Json.GetProperty("outcome").GetString());
        Assert.True(await ScalarAsync<bool>(world, "select archived_at is not null from ops.branches where project_id = @project and name = 'feature-x'", new { project }));

        var before = await StateAsync(world);
        var tag = await GitLabAsync(Http, project, secret, GitLabPush("refs/tags/v2.0", Sha('9'), (Sha('9'), "Release")), gitlabEvent: "Tag Push Hook");
        Assert.Equal(HttpStatusCode.OK, tag.Status);
        Assert.Equal("ignored", tag.Json.GetProperty("outcome").GetString());
        var mergeRequest = await GitLabAsync(Http, project, secret, """{"object_kind": "merge_request"}""", gitlabEvent: "Merge Request Hook");
        Assert.Equal(HttpStatusCode.OK, mergeRequest.Status);
        Assert.Equal("ignored", mergeRequest.Json.GetProperty("outcome").GetString());
        Assert.Equal(before, await StateAsync(world));
    }
}
