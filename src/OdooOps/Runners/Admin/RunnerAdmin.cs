using System.Net;
using OdooOps.Audit;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Runners.Admin;

/// <summary>
/// What an org admin does to runners, shared by the API and the console: each action is one transaction with its audit
/// row, and only a change is audited (revoking or disabling twice logs once). Audit rows never hold a token or its hash.
/// </summary>
internal static class RunnerAdmin
{
    public const string ExpiresField = "expires_in_hours";
    public const int DefaultExpiresInHours = 24;
    public const int MaxExpiresInHours = 720;

    public static Validation ValidateExpiry(int? hours, string field = ExpiresField)
    {
        var v = new Validation();
        if (hours is < 1 or > MaxExpiresInHours) v.Add(field, $"{field} must be between 1 and {MaxExpiresInHours} (30 days).");
        return v;
    }

    /// <summary>The command that registers and starts a runner on a host, as shown to the admin who made the token.</summary>
    public static string RegisterCommand(string serverUrl, string token) => $"odooops runner --url {serverUrl} --token {token}";

    public static Task<NewRegistrationToken> CreateTokenAsync(OpsDatabase db, Guid userId, Guid orgId, int hours, string serverUrl,
        IPAddress? ip, CancellationToken ct) =>
        db.AsUserAsync(userId, async (c, t) =>
        {
            var (id, token, createdAt, expiresAt) = await RunnerAdminStore.CreateTokenAsync(c, t, orgId, TimeSpan.FromHours(hours));
            await AuditLog.WriteAsync(c, t, Actor.User(userId, ip), new(orgId, null, "runner_token.create", "runner_token", id.ToString(),
                After: new { ExpiresAt = expiresAt, ExpiresInHours = hours }));
            return new NewRegistrationToken(id, token, createdAt, expiresAt, RegisterCommand(serverUrl, token));
        }, ct);

    /// <summary>
    /// Revokes a registration token of the org. Token null: the org has no such token (or the caller cannot see it, which
    /// looks the same on purpose). Changed: false when it was revoked already.
    /// </summary>
    public static Task<(RegistrationTokenInfo? Token, bool Changed)> RevokeTokenAsync(OpsDatabase db, Guid userId, Guid orgId, Guid tokenId,
        IPAddress? ip, CancellationToken ct) =>
        db.AsUserAsync<(RegistrationTokenInfo?, bool)>(userId, async (c, t) =>
        {
            if (await RunnerAdminStore.GetTokenAsync(c, t, orgId, tokenId) is not { } before) return (null, false);
            await RunnerAdminStore.RevokeTokenAsync(c, t, orgId, tokenId); // idempotent, and checks the role every time
            var after = (await RunnerAdminStore.GetTokenAsync(c, t, orgId, tokenId))!;
            if (before.RevokedAt is not null) return (after, false);
            await AuditLog.WriteAsync(c, t, Actor.User(userId, ip), new(orgId, null, "runner_token.revoke", "runner_token", tokenId.ToString(),
                new { before.Status, before.ExpiresAt }, new { after.Status, after.RevokedAt }));
            return (after, true);
        }, ct);

    /// <summary>
    /// Disables or enables a runner of the org, or a shared one (system administrators only: the database answers 42501,
    /// which reaches API callers as 403 and the console as a message). Runner null: none the caller can see.
    /// </summary>
    public static Task<(RunnerInfo? Runner, bool Changed)> SetDisabledAsync(OpsDatabase db, Guid userId, Guid orgId, Guid runnerId, bool disabled,
        IPAddress? ip, CancellationToken ct) =>
        db.AsUserAsync<(RunnerInfo?, bool)>(userId, async (c, t) =>
        {
            if (await RunnerAdminStore.GetAsync(c, t, orgId, runnerId) is not { } before) return (null, false);
            await RunnerAdminStore.SetDisabledAsync(c, t, runnerId, disabled); // idempotent, and checks the role every time
            var after = (await RunnerAdminStore.GetAsync(c, t, orgId, runnerId))!;
            if (before.Disabled == disabled) return (after, false);
            await AuditLog.WriteAsync(c, t, Actor.User(userId, ip), new(orgId, null, disabled ? "runner.disable" : "runner.enable", "runner", runnerId.ToString(),
                new { before.Name, before.Shared, before.DisabledAt }, new { after.Name, after.Shared, after.DisabledAt }));
            return (after, true);
        }, ct);
}
