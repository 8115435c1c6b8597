using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;
using OdooOps.Auth;

namespace OdooOps.Tests.Infrastructure;

/// <summary>Test data the way an administrator creates it (as the database owner): orgs, users, memberships, tokens.</summary>
public static partial class Accounts
{
    public const string Password = "correct horse battery staple";

    public static async Task<NpgsqlConnection> OpenAsync(NpgsqlConnectionStringBuilder owner)
    {
        var conn = new NpgsqlConnection(owner.ConnectionString);
        await conn.OpenAsync();
        return conn;
    }

    public static async Task<Guid> CreateOrgAsync(NpgsqlConnectionStringBuilder owner, string slug)
    {
        await using var conn = await OpenAsync(owner);
        return await conn.ExecuteScalarAsync<Guid>("insert into registry.orgs (name, slug) values (@name, @slug) returning id",
            new { name = $"Org {slug}", slug });
    }

    public static async Task<Guid> CreateUserAsync(NpgsqlConnectionStringBuilder owner, string email, Guid? orgId = null, string? role = null)
    {
        await using var conn = await OpenAsync(owner);
        var id = await conn.ExecuteScalarAsync<Guid>(
            "insert into registry.users (email, display_name, password_hash) values (@email, @email, @hash) returning id",
            new { email, hash = Passwords.Hash(Password) });
        if (orgId is not null)
            await conn.ExecuteAsync("insert into registry.org_members (org_id, user_id, role) values (@orgId, @id, @role)", new { orgId, id, role });
        return id;
    }

    public static async Task<string> CreateTokenAsync(NpgsqlConnectionStringBuilder owner, Guid userId, string scope = "write", DateTime? expiresAt = null)
    {
        var token = AccessTokens.Create(AccessTokens.PersonalPrefix);
        await using var conn = await OpenAsync(owner);
        await conn.ExecuteAsync("""
            insert into ops.api_tokens (user_id, name, token_prefix, token_hash, scope, expires_at)
            values (@userId, 'test', @prefix, @hash, @scope, @expiresAt)
            """, new { userId, prefix = AccessTokens.Preview(token), hash = AccessTokens.Hash(token), scope, expiresAt });
        return token;
    }

    public static async Task<Guid> CreateProjectAsync(NpgsqlConnectionStringBuilder owner, Guid orgId, string slug, bool withBranches = true)
    {
        await using var conn = await OpenAsync(owner);
        var id = await conn.ExecuteScalarAsync<Guid>("""
            insert into ops.projects (org_id, name, slug, repo_url, runtime_version)
            values (@orgId, @name, @slug, 'https://example.com/odoo.git', '19.0') returning id
            """, new { orgId, name = $"Project {slug}", slug });
        if (withBranches)
            await conn.ExecuteAsync("""
                insert into ops.branches (project_id, name, stage, is_production) values
                    (@id, 'main', 'production', true), (@id, 'staging', 'staging', false), (@id, 'feature-x', 'development', false)
                """, new { id });
        return id;
    }

    public static HttpClient WithToken(this HttpClient client, string token)
    {
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Signs in through the /login form as a browser would: GET for the antiforgery token, then POST.</summary>
    public static async Task<HttpResponseMessage> SignInAsync(HttpClient client, string email, string password = Password)
    {
        var form = await client.GetStringAsync("/login");
        var token = AntiforgeryField().Match(form).Groups[1].Value;
        return await client.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["__RequestVerificationToken"] = token,
            ["Input.Email"] = email,
            ["Input.Password"] = password,
        }));
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
