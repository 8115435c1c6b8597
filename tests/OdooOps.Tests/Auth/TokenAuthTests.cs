using System.Net;
using System.Text.Json;
using Dapper;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Auth;

/// <summary>Personal access tokens: created once and stored hashed, scoped, expiring, revocable, with last use.</summary>
public sealed class TokenAuthTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    [Fact]
    public async Task Password_exchange_returns_a_token_shown_once_and_stored_hashed()
    {
        var client = world.Client(null);
        var response = await client.PostAsync("/api/ops/auth/token",
            ApiWorld.Body(new { email = "developer@a.test", password = Accounts.Password, name = "laptop", scope = "read" }));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var token = json.RootElement.GetProperty("token").GetString()!;
        Assert.StartsWith("oo_pat_", token);
        Assert.Equal("read", json.RootElement.GetProperty("scope").GetString());

        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        var stored = await conn.QuerySingleAsync<(byte[] Hash, string Prefix)>(
            "select token_hash, token_prefix from ops.api_tokens where id = @id", new { id = json.RootElement.GetProperty("id").GetGuid() });
        Assert.Equal(OdooOps.Auth.AccessTokens.Hash(token), stored.Hash);
        Assert.DoesNotContain(token, stored.Prefix);

        var listed = await world.Client(null).WithToken(token).GetStringAsync("/api/ops/tokens");
        Assert.Contains("laptop", listed);
        Assert.DoesNotContain(token, listed);
        Assert.DoesNotContain("token_hash", listed);
    }

    [Fact]
    public async Task Api_creation_and_revocation_are_audited_like_the_console_without_the_token()
    {
        var email = $"{world.Unique("aud")}@a.test";
        var userId = await Accounts.CreateUserAsync(world.Factory.Owner, email, world.A.OrgId, "developer");
        var client = world.Client(null).WithToken(await Accounts.CreateTokenAsync(world.Factory.Owner, userId));
        var created = await client.PostAsync("/api/ops/tokens", ApiWorld.Body(new { name = "ci", scope = "read", expires_in_days = 30 }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var json = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        var id = json.RootElement.GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/ops/tokens/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/ops/tokens/{id}")).StatusCode); // revoked already: no second row

        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        var rows = (await conn.QueryAsync<(string Action, Guid? Org, Guid? Actor, string TargetType, string Row)>("""
            select action, org_id, actor_user_id, target_type, row_to_json(a)::text from ops.audit_log a where target_id = @id order by a.id
            """, new { id = id.ToString() })).ToList();
        Assert.Equal(["token.create", "token.revoke"], rows.Select(r => r.Action));
        Assert.All(rows, r => Assert.Equal(((Guid?)world.A.OrgId, (Guid?)userId, "token"), (r.Org, r.Actor, r.TargetType)));
        Assert.All(rows, r => Assert.DoesNotContain(json.RootElement.GetProperty("token").GetString()!, r.Row));
    }

    [Fact]
    public async Task Read_scope_may_read_but_not_write()
    {
        var id = await Accounts.CreateUserAsync(world.Factory.Owner, $"{world.Unique("r")}@a.test", world.A.OrgId, "owner");
        var token = await Accounts.CreateTokenAsync(world.Factory.Owner, id, scope: "read");
        var client = world.Client(null).WithToken(token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/ops/projects")).StatusCode);
        var before = await world.FingerprintAsync();
        var write = await client.PatchAsync($"/api/ops/projects/{world.A.ProjectId}", ApiWorld.Body(new { name = "nope" }));
        Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
        Assert.Contains("read scope", await write.Content.ReadAsStringAsync());
        Assert.Equal(before, await world.FingerprintAsync());
    }

    [Fact]
    public async Task Expired_revoked_and_unknown_tokens_are_401()
    {
        var id = await Accounts.CreateUserAsync(world.Factory.Owner, $"{world.Unique("e")}@a.test", world.A.OrgId, "viewer");
        var expired = await Accounts.CreateTokenAsync(world.Factory.Owner, id, expiresAt: DateTime.UtcNow.AddMinutes(-1));
        Assert.Equal(HttpStatusCode.Unauthorized, (await world.Client(null).WithToken(expired).GetAsync("/api/ops/projects")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await world.Client(null).WithToken("oo_pat_" + new string('x', 43)).GetAsync("/api/ops/projects")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await world.Client(null).WithToken("not-a-token").GetAsync("/api/ops/projects")).StatusCode);

        var live = await Accounts.CreateTokenAsync(world.Factory.Owner, id);
        var client = world.Client(null).WithToken(live);
        using var list = JsonDocument.Parse(await client.GetStringAsync("/api/ops/tokens"));
        var tokenId = list.RootElement.GetProperty("tokens").EnumerateArray().Single(t => t.GetProperty("revoked_at").ValueKind == JsonValueKind.Null
            && t.GetProperty("expires_at").ValueKind == JsonValueKind.Null).GetProperty("id").GetGuid();
        Assert.NotEqual(JsonValueKind.Null, list.RootElement.GetProperty("tokens").EnumerateArray().Single(t => t.GetProperty("id").GetGuid() == tokenId).GetProperty("last_used_at").ValueKind);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/ops/tokens/{tokenId}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/ops/projects")).StatusCode);
    }

    [Fact]
    public async Task A_user_cannot_revoke_someone_elses_token()
    {
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        var bToken = await conn.ExecuteScalarAsync<Guid>("select id from ops.api_tokens where user_id = @OwnerId limit 1", new { world.B.OwnerId });
        var response = await world.Client("owner").DeleteAsync($"/api/ops/tokens/{bToken}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Null(await conn.ExecuteScalarAsync<DateTime?>("select revoked_at from ops.api_tokens where id = @bToken", new { bToken }));
    }

    [Fact]
    public async Task Wrong_passwords_lock_the_account_from_that_address_and_it_answers_as_for_an_unknown_email()
    {
        var email = $"{world.Unique("lock")}@a.test";
        await Accounts.CreateUserAsync(world.Factory.Owner, email, world.A.OrgId, "viewer");
        var client = world.Client(null);
        async Task<(HttpStatusCode, string)> TryAsync(string who, string password)
        {
            var response = await client.PostAsync("/api/ops/auth/token", ApiWorld.Body(new { email = who, password }));
            return (response.StatusCode, System.Text.RegularExpressions.Regex.Replace(await response.Content.ReadAsStringAsync(), "\"trace_id\":\"[^\"]*\"", ""));
        }

        var unknown = await TryAsync($"{world.Unique("nobody")}@a.test", "wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.Item1);
        for (var i = 0; i < OdooOps.Auth.SignInService.MaxFailuresPerAddress; i++)
            Assert.Equal(unknown, await TryAsync(email, "wrong"));
        // Locked now (for this address): even the right password gets the very answer an unknown email gets.
        Assert.Equal(unknown, await TryAsync(email, Accounts.Password));
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        Assert.True(await conn.ExecuteScalarAsync<bool>("""
            select f.locked_until > now() from ops_private.sign_in_failures f join registry.users u on u.id = f.user_id where u.email = @email
            """, new { email }));
    }
}
