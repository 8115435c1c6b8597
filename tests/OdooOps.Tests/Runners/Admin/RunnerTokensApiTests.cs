using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OdooOps.Auth;
using OdooOps.Runners.Protocol;
using OdooOps.Runners.Agent;

namespace OdooOps.Tests.Runners.Admin;

/// <summary>
/// /api/ops/orgs/{orgId}/runner-tokens: an admin's registration token registers real runners over the runner protocol
/// until it expires or is revoked; it is shown once and stored hashed; roles, scopes and tenants are kept apart.
/// </summary>
public sealed class RunnerTokensApiTests(RunnerAdminWorld world) : IClassFixture<RunnerAdminWorld>
{
    string TokensPath(Guid? org = null) => $"/api/ops/orgs/{org ?? world.OrgA}/runner-tokens";

    static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Fact]
    public async Task An_admin_token_is_shown_once_stored_hashed_and_registers_runners()
    {
        using var admin = world.Client("admin");
        var before = DateTime.UtcNow;
        var response = await admin.PostAsJsonAsync(TokensPath(), new { });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString());
        var body = await JsonAsync(response);
        var id = body.GetProperty("id").GetGuid();
        var token = body.GetProperty("token").GetString()!;
        Assert.Matches("^oo_reg_[0-9A-Za-z]{43}$", token);
        Assert.Equal($"/api/ops/orgs/{world.OrgA}/runner-tokens/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal($"odooops runner --url {world.Server.Url} --token {token}", body.GetProperty("register_command").GetString());
        var expires = body.GetProperty("expires_at").GetDateTime().ToUniversalTime();
        Assert.InRange(expires, before.AddHours(24).AddMinutes(-1), DateTime.UtcNow.AddHours(24).AddMinutes(1));
        Assert.Equal(AccessTokens.Hash(token), await world.ScalarAsync<byte[]>(
            "select token_hash from ops.runner_registration_tokens where id = @id", new { id }));

        // The token registers runners (several, until it expires) that take builds of acme.
        var first = await world.RegisterAsync(token, "build-1", 2, "odoo19");
        var second = await world.RegisterAsync(token, "build-2");
        Assert.NotEqual(first.RunnerId, second.RunnerId);
        Assert.Equal(world.OrgA, await world.ScalarAsync<Guid>("select org_id from ops.runners where id = @RunnerId", first));
        using (var runner = new DispatchClient(world.Url, first.Token))
            Assert.Empty(await runner.NextAsync(1, 0, CancellationToken.None));

        var list = await admin.GetStringAsync(TokensPath());
        Assert.DoesNotContain(token, list);
        Assert.DoesNotContain(token[7..], list);
        var listed = JsonDocument.Parse(list).RootElement.GetProperty("tokens").EnumerateArray().Single(t => t.GetProperty("id").GetGuid() == id);
        Assert.Equal("used", listed.GetProperty("status").GetString());
        Assert.Equal("admin@acme.test", listed.GetProperty("created_by_email").GetString());
        Assert.Equal(JsonValueKind.String, listed.GetProperty("used_at").ValueKind);

        var audit = Assert.Single(await world.AuditAsync(id));
        Assert.Equal(("runner_token.create", (Guid?)world.OrgA, (Guid?)world.Users["admin"], "runner_token"), (audit.Action, audit.OrgId, audit.ActorUserId, audit.TargetType));
        Assert.DoesNotContain(token[7..], audit.Json);
        Assert.DoesNotContain(Convert.ToHexString(AccessTokens.Hash(token)), audit.Json, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    [InlineData(721)]
    public async Task An_expiry_out_of_range_is_refused_naming_the_field(int hours)
    {
        using var admin = world.Client("admin");
        var count = await world.ScalarAsync<long>("select count(*) from ops.runner_registration_tokens");

        var response = await admin.PostAsJsonAsync(TokensPath(), new { expires_in_hours = hours });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await JsonAsync(response)).GetProperty("errors");
        Assert.Contains("between 1 and 720", errors.GetProperty("expires_in_hours")[0].GetString());
        Assert.Equal(count, await world.ScalarAsync<long>("select count(*) from ops.runner_registration_tokens"));
    }

    [Fact]
    public async Task The_expiry_is_taken_in_hours()
    {
        var created = await world.CreateTokenAsync(hours: 1);
        Assert.InRange(created.ExpiresAt.ToUniversalTime() - DateTime.UtcNow, TimeSpan.FromMinutes(58), TimeSpan.FromMinutes(61));
        var month = await world.CreateTokenAsync(hours: 720);
        Assert.InRange(month.ExpiresAt.ToUniversalTime() - DateTime.UtcNow, TimeSpan.FromDays(30).Add(TimeSpan.FromMinutes(-2)), TimeSpan.FromDays(30));
    }

    [Fact]
    public async Task An_expired_token_registers_nothing_and_is_listed_expired()
    {
        var created = await world.CreateTokenAsync();
        await world.ExecuteAsync("update ops.runner_registration_tokens set expires_at = now() - interval '1 minute' where id = @Id", created);

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => world.RegisterAsync(created.Token));

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        using var admin = world.Client("admin");
        var list = JsonDocument.Parse(await admin.GetStringAsync(TokensPath())).RootElement.GetProperty("tokens");
        Assert.Equal("expired", list.EnumerateArray().Single(t => t.GetProperty("id").GetGuid() == created.Id).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_revoked_token_registers_nothing_but_its_runners_keep_working()
    {
        var created = await world.CreateTokenAsync();
        var registered = await world.RegisterAsync(created.Token);
        using var admin = world.Client("admin");

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"{TokensPath()}/{created.Id}")).StatusCode);

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => world.RegisterAsync(created.Token));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        using (var runner = new DispatchClient(world.Url, registered.Token))
            Assert.Empty(await runner.NextAsync(1, 0, CancellationToken.None));
        var list = JsonDocument.Parse(await admin.GetStringAsync(TokensPath())).RootElement.GetProperty("tokens");
        Assert.Equal("revoked", list.EnumerateArray().Single(t => t.GetProperty("id").GetGuid() == created.Id).GetProperty("status").GetString());

        // Again: still 204, audited once. An id that is not acme's: 404.
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"{TokensPath()}/{created.Id}")).StatusCode);
        Assert.Equal(["runner_token.create", "runner_token.revoke"], (await world.AuditAsync(created.Id)).Select(a => a.Action));
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync($"{TokensPath()}/{Guid.NewGuid()}")).StatusCode);
    }

    [Theory]
    [InlineData("developer", HttpStatusCode.Forbidden)]
    [InlineData("viewer", HttpStatusCode.Forbidden)]
    [InlineData("admin-read", HttpStatusCode.Forbidden)]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    public async Task Only_owners_and_admins_with_write_scope_create_tokens(string? actor, HttpStatusCode expected)
    {
        using var client = world.Client(actor);
        var count = await world.ScalarAsync<long>("select count(*) from ops.runner_registration_tokens");

        var response = await client.PostAsJsonAsync(TokensPath(), new { expires_in_hours = 2 });

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(count, await world.ScalarAsync<long>("select count(*) from ops.runner_registration_tokens"));
        if (actor is "developer" or "viewer")
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync(TokensPath())).StatusCode);
            var existing = await world.CreateTokenAsync();
            Assert.Equal(HttpStatusCode.Forbidden, (await client.DeleteAsync($"{TokensPath()}/{existing.Id}")).StatusCode);
            Assert.Equal("unused", await world.ScalarAsync<string>(
                "select case when revoked_at is null then 'unused' else 'revoked' end from ops.runner_registration_tokens where id = @Id", existing));
        }
    }

    [Fact]
    public async Task The_owner_creates_them_too()
    {
        var created = await world.CreateTokenAsync(actor: "owner");
        Assert.StartsWith(RunnerProtocol.RegistrationTokenPrefix, created.Token);
    }

    [Fact]
    public async Task Another_tenant_cannot_see_create_or_revoke_acme_tokens()
    {
        var acme = await world.CreateTokenAsync();
        using var stranger = world.Client("b-owner");
        var count = await world.ScalarAsync<long>("select count(*) from ops.runner_registration_tokens");

        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsJsonAsync(TokensPath(), new { })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync(TokensPath())).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.DeleteAsync($"{TokensPath()}/{acme.Id}")).StatusCode);
        // Through their own org's path, acme's token does not exist either.
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.DeleteAsync($"{TokensPath(world.OrgB)}/{acme.Id}")).StatusCode);
        var own = await stranger.GetStringAsync(TokensPath(world.OrgB));
        Assert.DoesNotContain(acme.Id.ToString(), own);

        Assert.Equal(count, await world.ScalarAsync<long>("select count(*) from ops.runner_registration_tokens"));
        Assert.Null(await world.ScalarAsync<DateTime?>("select revoked_at from ops.runner_registration_tokens where id = @Id", acme));
        Assert.NotEqual(Guid.Empty, (await world.RegisterAsync(acme.Token)).RunnerId);
    }
}
