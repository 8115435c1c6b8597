using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Metrics;

/// <summary>/api/ops/projects/{projectId}/ingest-tokens: who may list, create and revoke; shown once, stored hashed, audited.</summary>
public sealed class IngestTokensApiTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    string Path(Guid project) => $"/api/ops/projects/{project}/ingest-tokens";

    [Fact]
    public async Task An_admin_creates_a_token_shown_once_and_stored_hashed_with_an_audit_row()
    {
        var admin = world.Client("admin");
        var name = world.Unique("agent");
        var created = await admin.PostAsJsonAsync(Path(world.A.ProjectId), new { name });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var json = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        var token = json.RootElement.GetProperty("token").GetString()!;
        var id = json.RootElement.GetProperty("id").GetGuid();
        Assert.Matches("^oo_ing_[0-9A-Za-z]{43}$", token);
        Assert.Equal(token[..12], json.RootElement.GetProperty("token_prefix").GetString());
        Assert.EndsWith($"/ingest-tokens/{id}", created.Headers.Location!.ToString());

        var list = await admin.GetStringAsync(Path(world.A.ProjectId));
        Assert.Contains(id.ToString(), list);
        Assert.DoesNotContain(token, list);
        Assert.DoesNotContain("token_hash", list);

        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        var stored = await conn.QuerySingleAsync<(byte[] Hash, string Name)>("select token_hash, name from ops.ingest_tokens where id = @id", new { id });
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(token)), stored.Hash);
        Assert.Equal(name, stored.Name);
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>(
            "select count(*) from ops.audit_log where action = 'ingest_token.create' and target_id = @id and project_id = @ProjectId and after->>'name' = @name",
            new { id = id.ToString(), world.A.ProjectId, name }));
    }

    [Fact]
    public async Task Revoking_is_audited_once_and_repeatable()
    {
        var admin = world.Client("owner");
        var created = await (await admin.PostAsJsonAsync(Path(world.A.ProjectId), new { name = world.Unique("gone") })).Content.ReadFromJsonAsync<JsonElement>();
        var id = created.GetProperty("id").GetGuid();

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"{Path(world.A.ProjectId)}/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"{Path(world.A.ProjectId)}/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync($"{Path(world.A.ProjectId)}/{Guid.NewGuid()}")).StatusCode);
        // A token of project A cannot be revoked through project B's path, even by B's owner.
        var b = world.Client("b-owner");
        Assert.Equal(HttpStatusCode.NotFound, (await b.DeleteAsync($"{Path(world.B.ProjectId)}/{id}")).StatusCode);

        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        Assert.NotNull(await conn.ExecuteScalarAsync<DateTime?>("select revoked_at from ops.ingest_tokens where id = @id", new { id }));
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>(
            "select count(*) from ops.audit_log where action = 'ingest_token.revoke' and target_id = @id", new { id = id.ToString() }));
        var listed = await admin.GetFromJsonAsync<JsonElement>(Path(world.A.ProjectId));
        Assert.Contains(listed.GetProperty("tokens").EnumerateArray(),
            t => t.GetProperty("id").GetGuid() == id && t.GetProperty("revoked_at").ValueKind == JsonValueKind.String);
    }

    [Fact]
    public async Task Below_admin_other_tenants_read_scope_and_bad_names_are_refused()
    {
        var readOnly = world.Factory.CreateClient().WithToken(await Accounts.CreateTokenAsync(world.Factory.Owner, world.A.OwnerId, scope: "read"));
        var before = await world.FingerprintAsync();
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        var countBefore = await conn.ExecuteScalarAsync<int>("select count(*) from ops.ingest_tokens");
        foreach (var role in new[] { "developer", "tester", "viewer" })
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await world.Client(role).GetAsync(Path(world.A.ProjectId))).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await world.Client(role).PostAsJsonAsync(Path(world.A.ProjectId), new { name = "x" })).StatusCode);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await world.Client("b-owner").PostAsJsonAsync(Path(world.A.ProjectId), new { name = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await world.Client(null).GetAsync(Path(world.A.ProjectId))).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await readOnly.GetAsync(Path(world.A.ProjectId))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await readOnly.PostAsJsonAsync(Path(world.A.ProjectId), new { name = "x" })).StatusCode);

        var invalid = await world.Client("admin").PostAsJsonAsync(Path(world.A.ProjectId), new { name = " " });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("\"name\"", await invalid.Content.ReadAsStringAsync());

        Assert.Equal(countBefore, await conn.ExecuteScalarAsync<int>("select count(*) from ops.ingest_tokens"));
        Assert.Equal(before, await world.FingerprintAsync());
    }
}
