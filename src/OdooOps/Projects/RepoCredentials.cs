using Npgsql;
using OdooOps.Audit;
using OdooOps.Database;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Projects;

/// <summary>
/// A project's repository credential, the one use case behind PUT/DELETE /api/ops/projects/{id}/repo-credential, the
/// settings page and `odooops projects credential`: project admins set or clear it, in one transaction with its audit
/// row (<c>repo_credential.set</c> / <c>repo_credential.clear</c>, kind and user name only). The secret is encrypted
/// here, before it leaves the process, and is never read back by anyone but the runner API for a build.
/// </summary>
internal sealed class RepoCredentials(OpsDatabase db, RepoCredentialProtector protector)
{
    public Task<RepoCredentialStatus> StatusAsync(Guid userId, Guid projectId, CancellationToken ct) =>
        db.AsUserAsync(userId, (c, t) => RepoCredentialStore.StatusAsync(c, t, projectId), ct);

    /// <summary>Sets <paramref name="credential"/> (checked by <see cref="RepoCredentialRules.Validate"/>), replacing any other at once.</summary>
    public Task<RepoCredentialStatus> SetAsync(Actor actor, Guid projectId, GitCredential credential, CancellationToken ct)
    {
        var ciphertext = protector.Protect(projectId, credential.Secret);
        return db.AsUserAsync(actor.UserId, async (c, t) =>
        {
            var (setAt, beforeKind, beforeUsername) = await RepoCredentialStore.SetAsync(c, t, projectId, credential.Kind, credential.Username, ciphertext);
            await AuditAsync(c, t, actor, projectId, "repo_credential.set",
                beforeKind is null ? null : new { kind = beforeKind, username = beforeUsername },
                new { kind = credential.Kind, username = credential.Username });
            return new RepoCredentialStatus(credential.Kind, credential.Username, setAt);
        }, ct);
    }

    /// <summary>Removes the credential; false when there was none (nothing is audited then).</summary>
    public Task<bool> ClearAsync(Actor actor, Guid projectId, CancellationToken ct) =>
        db.AsUserAsync(actor.UserId, async (c, t) =>
        {
            if (await RepoCredentialStore.ClearAsync(c, t, projectId) is not { } removed) return false;
            await AuditAsync(c, t, actor, projectId, "repo_credential.clear", new { kind = removed.Kind, username = removed.Username }, null);
            return true;
        }, ct);

    /// <summary>
    /// Inside a project update: when the repository's host changes, the credential goes (audited), or whoever may edit
    /// the URL could send a token an owner set to a host of their own. A new path on the same host keeps it.
    /// </summary>
    public static async Task ForgetOnNewHostAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, Guid projectId, string before, string after)
    {
        if (string.Equals(Host(before), Host(after), StringComparison.OrdinalIgnoreCase)) return;
        if (await RepoCredentialStore.ClearAsync(c, t, projectId) is { } removed)
            await AuditAsync(c, t, actor, projectId, "repo_credential.clear", new { kind = removed.Kind, username = removed.Username },
                new { reason = "the repository moved to another host" });
    }

    /// <summary>The host (and port) a repository URL names: https://host/…, ssh://user@host:port/…, user@host:path.</summary>
    static string Host(string url)
    {
        url = url.Trim();
        if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is not "file") return uri.Authority.Split('@')[^1];
        var colon = url.IndexOf(':');
        return colon > 0 ? url[..colon].Split('@')[^1] : "";
    }

    static async Task AuditAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, Guid projectId, string action, object? before, object? after)
    {
        var project = (await ProjectStore.GetAsync(c, t, projectId))!;
        await AuditLog.WriteAsync(c, t, actor, new(project.OrgId, projectId, action, "project", projectId.ToString(), before, after));
    }
}
