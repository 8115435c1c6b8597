using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;

namespace OdooOps.Cli;

/// <summary>
/// What the admin verbs (org, user, token) share: they run as the database owner, validate before writing, and
/// write each change with its audit row in one transaction (actor 'system', no acting user).
/// </summary>
public static partial class AdminSupport
{
    public static readonly string[] OrgRoles = ["owner", "admin", "developer", "tester", "viewer"];

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static async Task<NpgsqlConnection> OpenAsync(NpgsqlConnectionStringBuilder owner, CancellationToken ct)
    {
        var conn = new NpgsqlConnection(owner.ConnectionString);
        await conn.OpenAsync(ct);
        return conn;
    }

    public static Task WriteAuditAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid? orgId, string action, string targetType, Guid targetId, object after) =>
        conn.ExecuteAsync("""
            insert into ops.audit_log (org_id, actor_user_id, actor, action, target_type, target_id, after)
            values (@orgId, null, 'system', @action, @targetType, @targetId, @after::jsonb)
            """, new { orgId, action, targetType, targetId = targetId.ToString(), after = JsonSerializer.Serialize(after, Json) }, tx);

    /// <summary>The org an audit row about a user belongs to: their oldest membership (null when they have none).</summary>
    public static Task<Guid?> AnyOrgOfAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid userId) =>
        conn.ExecuteScalarAsync<Guid?>(
            "select org_id from registry.org_members where user_id = @userId order by created_at, org_id limit 1", new { userId }, tx);

    public sealed record UserRow(Guid Id, string Email, bool IsActive);

    public static Task<UserRow?> FindUserAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string email) =>
        conn.QuerySingleOrDefaultAsync<UserRow>(
            "select id, email, is_active from registry.users where lower(email) = lower(@email) for update", new { email }, tx);

    public static string ValidEmail(string? email)
    {
        var e = email?.Trim() ?? "";
        if (e.Length > 320 || !EmailPattern().IsMatch(e)) throw new ArgumentException($"'{email}' is not an email address.");
        return e;
    }

    public static string ValidRole(string? role) =>
        role is not null && OrgRoles.Contains(role)
            ? role
            : throw new ArgumentException($"--role must be one of: {string.Join(", ", OrgRoles)} (got '{role}').");

    public static string? ValidSlug(string? slug) =>
        slug is null || SlugPattern().IsMatch(slug)
            ? slug
            : throw new ArgumentException($"--slug '{slug}' must be lower-case letters, digits and dashes, starting with a letter or digit (at most 63).");

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+$")] private static partial Regex EmailPattern();
    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")] private static partial Regex SlugPattern();
}
