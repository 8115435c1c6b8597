using System.Net;
using System.Text;
using OdooOps.Server;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;
using static OdooOps.Tests.Webhooks.HookRequests;

namespace OdooOps.Tests.Server;

/// <summary>
/// A stranger (no session, no token) posting megabytes to sign-in, the token exchange or runner registration is
/// refused with 413 before the body is parsed; signed-in callers and the token-authenticated machine endpoints
/// (metrics ingest, git webhooks) keep their own, larger limits.
/// </summary>
public sealed class AnonymousBodyLimitTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    static readonly string Padding = new('x', AnonymousBodyLimit.MaxBytes);

    static string Big(object shape) => System.Text.Json.JsonSerializer.Serialize(shape, ApiWorld.Json);

    static HttpContent Json(string text, bool chunked)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        // A stream of unknown length goes out chunked: no Content-Length to refuse up front.
        HttpContent content = chunked ? new StreamContent(new UnknownLengthStream(bytes)) : new ByteArrayContent(bytes);
        content.Headers.ContentType = new("application/json");
        return content;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Large_anonymous_bodies_are_refused_with_413(bool chunked)
    {
        var http = world.Client(null);
        var token = await http.PostAsync("/api/ops/auth/token", Json(Big(new { email = "owner@a.test", password = Padding }), chunked));
        var register = await http.PostAsync("/api/runner/v1/register", Json(Big(new { registration_token = "oo_reg_x", name = Padding }), chunked));
        foreach (var response in new[] { token, register })
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        var form = await http.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login", ["Input.Email"] = "owner@a.test", ["Input.Password"] = Padding,
        }));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, form.StatusCode);
    }

    [Fact]
    public async Task Small_anonymous_bodies_pass()
    {
        var response = await world.Client(null).PostAsync("/api/ops/auth/token", ApiWorld.Body(new { email = "owner@a.test", password = "wrong" }));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Signed_in_callers_are_not_held_to_the_anonymous_limit()
    {
        var response = await world.Client("owner").PostAsync("/api/ops/tokens", Json(Big(new { name = Padding, scope = "read" }), chunked: true));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode); // read and judged: the name is too long
        Assert.Contains("\"name\"", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Metrics_ingest_takes_batches_larger_than_the_anonymous_limit()
    {
        var ts = DateTime.UtcNow.AddMinutes(-1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");
        var samples = string.Join(", ", Enumerable.Range(0, 400).Select(i => $$$"""{"metric": "big.m{{{i}}}", "value": {{{i}}}, "labels": {"host": "web-{{{i}}}"}}"""));
        var body = $$"""{"project_id": "{{world.A.ProjectId}}", "ts": "{{ts}}", "samples": [{{samples}}]}""";
        Assert.True(Encoding.UTF8.GetByteCount(body) > AnonymousBodyLimit.MaxBytes);
        var request = new HttpRequestMessage(HttpMethod.Post, "/functions/v1/ops-metrics-ingest") { Content = Json(body, chunked: false) };
        request.Headers.Add("x-ops-ingest-token", TestHosts.IngestToken);
        var response = await world.Client(null).SendAsync(request);
        Assert.Equal("""{"inserted": 400}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_signed_git_push_larger_than_the_anonymous_limit_is_taken()
    {
        var (project, secret) = await NewProjectWithSecretAsync(world);
        var body = GitHubPush("refs/heads/feature-big", Sha('b'), message: Padding);
        Assert.True(Encoding.UTF8.GetByteCount(body) > AnonymousBodyLimit.MaxBytes);
        var reply = await GitHubAsync(world.Client(null), project, secret, body);
        Assert.True((int)reply.Status is >= 200 and < 300, reply.ToString());
    }

    /// <summary>A readable stream that will not say how long it is.</summary>
    sealed class UnknownLengthStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
