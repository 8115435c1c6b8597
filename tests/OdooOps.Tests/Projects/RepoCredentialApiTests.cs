using System.Buffers.Binary;
using System.Net;
using System.Text;
using System.Text.Json;
using Dapper;
using Npgsql;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Projects;

/// <summary>
/// /api/ops/projects/{id}/repo-credential: project admins set (token or SSH key) and clear a write-only credential; no
/// answer, audit row or table the request role can read holds the secret; what is stored is ciphertext.
/// </summary>
public sealed class RepoCredentialApiTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    const string Token = "glpat-S3cretTokenValue0123456789";

    static string Path(Guid project) => $"/api/ops/projects/{project}/repo-credential";

    [Fact]
    public async Task An_admin_sets_a_token_that_no_answer_audit_row_or_request_role_can_read_back()
    {
        var project = await world.NewProjectAsync(world.A);
        var admin = world.Client("admin");

        var put = await admin.PutAsync(Path(project), ApiWorld.Body(new { kind = "token", username = "deployer", secret = Token }));
        var putBody = await put.Content.ReadAsStringAsync();
        Assert.True(put.StatusCode == HttpStatusCode.OK, putBody);
        var get = await admin.GetStringAsync(Path(project));
        using (var json = JsonDocument.Parse(get))
        {
            Assert.True(json.RootElement.GetProperty("set").GetBoolean());
            Assert.Equal("token", json.RootElement.GetProperty("kind").GetString());
            Assert.Equal("deployer", json.RootElement.GetProperty("username").GetString());
            Assert.Equal(JsonValueKind.String, json.RootElement.GetProperty("set_at").ValueKind);
        }
        Assert.DoesNotContain("S3cret", putBody + get);

        await using var owner = await Accounts.OpenAsync(world.Factory.Owner);
        var stored = await owner.QuerySingleAsync<(string Kind, string Username, string Secret)>(
            "select kind, username, secret from ops_private.repo_credentials where project_id = @project", new { project });
        Assert.Equal(("token", "deployer"), (stored.Kind, stored.Username));
        Assert.DoesNotContain("S3cret", stored.Secret); // ciphertext
        var audit = await owner.QuerySingleAsync<string>(
            "select after::text from ops.audit_log where project_id = @project and action = 'repo_credential.set'", new { project });
        Assert.Contains("deployer", audit);
        Assert.DoesNotContain("S3cret", await owner.ExecuteScalarAsync<string>("select string_agg(coalesce(before::text, '') || coalesce(after::text, ''), '') from ops.audit_log"));

        // The request role cannot read the table, not even as the project's own admin.
        await using var app = await RequestRoleAsync(world, await Accounts.CreateUserAsync(world.Factory.Owner, $"{world.Unique("adm")}@a.test", world.A.OrgId, "admin"));
        var denied = await Assert.ThrowsAsync<PostgresException>(() => app.ExecuteScalarAsync("select secret from ops_private.repo_credentials"));
        Assert.Equal("42501", denied.SqlState);
    }

    [Fact]
    public async Task Moving_the_repository_to_another_host_forgets_the_credential_and_a_new_path_keeps_it()
    {
        var project = await world.NewProjectAsync(world.A);
        var admin = world.Client("admin");
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsync(Path(project), ApiWorld.Body(new { kind = "token", secret = Token }))).StatusCode);

        // Same host (example.com, as the project was made): the token stays for the new path.
        Assert.Equal(HttpStatusCode.OK, (await admin.PatchAsync($"/api/ops/projects/{project}", ApiWorld.Body(new { repo_url = "https://example.com/acme/other.git" }))).StatusCode);
        Assert.Contains("\"set\":true", await admin.GetStringAsync(Path(project)));

        // Another host: a token set for example.com must not be sent there.
        Assert.Equal(HttpStatusCode.OK, (await admin.PatchAsync($"/api/ops/projects/{project}", ApiWorld.Body(new { repo_url = "https://attacker.test/x.git" }))).StatusCode);
        Assert.Contains("\"set\":false", await admin.GetStringAsync(Path(project)));
        await using var owner = await Accounts.OpenAsync(world.Factory.Owner);
        Assert.Equal("{\"reason\": \"the repository moved to another host\"}", await owner.QuerySingleAsync<string>(
            "select after::text from ops.audit_log where project_id = @project and action = 'repo_credential.clear'", new { project }));
    }

    [Fact]
    public async Task An_ssh_key_is_kept_and_a_public_key_or_one_with_a_passphrase_is_refused()
    {
        var project = await world.NewProjectAsync(world.A);
        var owner = world.Client("owner");

        var ok = await owner.PutAsync(Path(project), ApiWorld.Body(new { kind = "ssh_key", secret = OpenSshKey("none").Replace("\n", "\r\n") }));
        Assert.True(ok.StatusCode == HttpStatusCode.OK, await ok.Content.ReadAsStringAsync());
        Assert.Equal("ssh_key", JsonDocument.Parse(await owner.GetStringAsync(Path(project))).RootElement.GetProperty("kind").GetString());

        foreach (var (body, field, says) in new (object, string, string)[]
                 {
                     (new { kind = "ssh_key", secret = OpenSshKey("aes256-ctr") }, "secret", "passphrase"),
                     (new { kind = "ssh_key", secret = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBc dev@laptop" }, "secret", "public key"),
                     (new { kind = "ssh_key", secret = "not a key" }, "secret", "SSH private key"),
                     (new { kind = "ssh_key", username = "git", secret = OpenSshKey("none") }, "username", "tokens only"),
                     (new { kind = "token", secret = "two words" }, "secret", "no spaces"),
                     (new { kind = "token", username = "a:b", secret = Token }, "username", "':'"),
                     (new { kind = "token" }, "secret", "required"),
                     (new { kind = "password", secret = Token }, "kind", "one of"),
                 })
        {
            var before = await StoredAsync(project);
            var response = await owner.PutAsync(Path(project), ApiWorld.Body(body));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
            Assert.Contains(says, JsonDocument.Parse(text).RootElement.GetProperty("errors").GetProperty(field)[0].GetString());
            Assert.DoesNotContain("S3cret", text);
            Assert.Equal(before, await StoredAsync(project));
        }
    }

    [Theory]
    [InlineData("developer", HttpStatusCode.Forbidden)]
    [InlineData("tester", HttpStatusCode.Forbidden)]
    [InlineData("viewer", HttpStatusCode.Forbidden)]
    [InlineData("b-owner", HttpStatusCode.NotFound)]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    public async Task Only_admins_of_the_project_see_set_or_clear_it(string? actor, HttpStatusCode expected)
    {
        var project = await world.NewProjectAsync(world.A);
        Assert.Equal(HttpStatusCode.OK, (await world.Client("owner").PutAsync(Path(project), ApiWorld.Body(new { kind = "token", secret = Token }))).StatusCode);
        var before = await StoredAsync(project);
        var client = world.Client(actor);

        Assert.Equal(expected, (await client.GetAsync(Path(project))).StatusCode);
        Assert.Equal(expected, (await client.PutAsync(Path(project), ApiWorld.Body(new { kind = "token", secret = "glpat-attacker-token" }))).StatusCode);
        Assert.Equal(expected, (await client.DeleteAsync(Path(project))).StatusCode);
        Assert.Equal(before, await StoredAsync(project));
    }

    [Fact]
    public async Task Clearing_removes_it_with_an_audit_row_and_clearing_nothing_audits_nothing()
    {
        var project = await world.NewProjectAsync(world.A);
        var owner = world.Client("owner");
        await owner.PutAsync(Path(project), ApiWorld.Body(new { kind = "token", secret = Token }));

        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync(Path(project))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync(Path(project))).StatusCode);

        Assert.Null(await StoredAsync(project));
        Assert.False(JsonDocument.Parse(await owner.GetStringAsync(Path(project))).RootElement.GetProperty("set").GetBoolean());
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        Assert.Equal(["repo_credential.set", "repo_credential.clear"], (await conn.QueryAsync<string>(
            "select action from ops.audit_log where project_id = @project and action like 'repo_credential.%' order by id", new { project })).ToArray());
    }

    async Task<string?> StoredAsync(Guid project)
    {
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        return await conn.ExecuteScalarAsync<string?>("select kind || coalesce(username, '') || secret from ops_private.repo_credentials where project_id = @project", new { project });
    }

    /// <summary>A session of the request role (ops_app) acting as <paramref name="userId"/>, as the API's transactions run.</summary>
    internal static async Task<NpgsqlConnection> RequestRoleAsync(ApiWorld world, Guid userId)
    {
        var app = (await OdooOps.Database.LoginRoles.EnsureAsync(world.Factory.Owner)).App;
        var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(app.ConnectionString) { Pooling = false }.ConnectionString);
        await conn.OpenAsync();
        await conn.ExecuteAsync("select set_config('ops.user_id', @user, false)", new { user = userId.ToString() });
        return conn;
    }

    /// <summary>An OpenSSH private key's framing (magic, then the cipher's name) around random bytes: what the rules read.</summary>
    internal static string OpenSshKey(string cipher)
    {
        var name = Encoding.ASCII.GetBytes(cipher);
        var bytes = new List<byte>(Encoding.ASCII.GetBytes("openssh-key-v1\0"));
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, name.Length);
        bytes.AddRange(length);
        bytes.AddRange(name);
        bytes.AddRange(System.Security.Cryptography.RandomNumberGenerator.GetBytes(300));
        var base64 = Convert.ToBase64String([.. bytes]);
        var lines = Enumerable.Range(0, (base64.Length + 69) / 70).Select(i => base64.Substring(i * 70, Math.Min(70, base64.Length - i * 70)));
        return $"-----BEGIN OPENSSH PRIVATE KEY-----\n{string.Join("\n", lines)}\n-----END OPENSSH PRIVATE KEY-----\n";
    }
}
