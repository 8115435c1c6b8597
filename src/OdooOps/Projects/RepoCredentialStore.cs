using Dapper;
using Npgsql;

namespace OdooOps.Projects;

/// <summary>A repository credential as its admins see it: never the secret.</summary>
public sealed record RepoCredentialStatus(string? Kind, string? Username, DateTime? SetAt)
{
    public bool Set => Kind is not null;
}

/// <summary>
/// Repository credentials' SQL. The table (ops_private.repo_credentials) is the owner's: project admins go through
/// SECURITY DEFINER functions that check their role again (42501; P0002 for no project), and hand in ciphertext only.
/// </summary>
internal static class RepoCredentialStore
{
    public static Task<RepoCredentialStatus> StatusAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId) =>
        c.QuerySingleAsync<RepoCredentialStatus>("select kind, username, set_at from ops.repo_credential_status(@projectId)", new { projectId }, t);

    /// <summary>Stores the credential; answers when, and the kind and user name it replaced (null kind: none).</summary>
    public static Task<(DateTime SetAt, string? BeforeKind, string? BeforeUsername)> SetAsync(NpgsqlConnection c, NpgsqlTransaction t,
        Guid projectId, string kind, string? username, string ciphertext) =>
        c.QuerySingleAsync<(DateTime, string?, string?)>("select set_at, before_kind, before_username from ops.set_repo_credential(@projectId, @kind, @username, @ciphertext)",
            new { projectId, kind, username, ciphertext }, t);

    /// <summary>The kind and user name removed; null when there was none.</summary>
    public static Task<(string Kind, string? Username)?> ClearAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId) =>
        c.QuerySingleOrDefaultAsync<(string Kind, string? Username)?>("select kind, username from ops.clear_repo_credential(@projectId)", new { projectId }, t);

    /// <summary>Credentials an upgrade moved out of repo_urls, waiting to be encrypted (as ops_service).</summary>
    public static async Task<IReadOnlyList<(Guid ProjectId, string UserInfo)>> MovedOutOfUrlsAsync(NpgsqlConnection c) =>
        [.. await c.QueryAsync<(Guid, string)>("select project_id, user_info from ops.repo_url_credentials()")];

    public static Task<bool> AdoptAsync(NpgsqlConnection c, Guid projectId, string userInfo, string? username, string ciphertext) =>
        c.ExecuteScalarAsync<bool>("select ops.adopt_repo_url_credential(@projectId, @userInfo, @username, @ciphertext)",
            new { projectId, userInfo, username, ciphertext });
}
