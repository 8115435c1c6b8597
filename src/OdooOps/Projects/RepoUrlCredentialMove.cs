using Npgsql;
using OdooOps.Database;

namespace OdooOps.Projects;

/// <summary>
/// Finishes what the upgrade that took credentials out of repo_urls began: the user information it set aside (owner-only,
/// in plain text, because a migration has no data-protection keys) is encrypted into each project's repository credential
/// and forgotten. Runs as `serve` starts, before it listens, as ops_service; idempotent (nothing waiting, nothing done)
/// and safe beside another replica doing the same. A failure is logged and tried again at the next start: the URLs are
/// clean already, only those projects' builds fetch without their credential meanwhile. It also says, once, when local
/// repositories are allowed.
/// </summary>
internal sealed class RepoUrlCredentialMove(OpsDatabase db, RepoCredentialProtector protector, RepoSettings repos, ILogger<RepoUrlCredentialMove> log)
    : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        // Said once at start-up (which also reads the setting, so a bad value stops `serve` before it listens).
        if (repos.AllowLocal)
            log.LogInformation("{Key} is on: projects may build from paths on the runners' disks (for demos, tests and single-user laptops).", RepoSettings.AllowLocalKey);
        try { await MoveAsync(ct); }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or System.Security.Cryptography.CryptographicException)
        {
            log.LogError("Credentials moved out of repository URLs could not be encrypted yet ({Message}); trying again at the next start.", e.Message);
        }
    }

    /// <summary>Encrypts every waiting credential; returns how many became a project's repository credential.</summary>
    public async Task<int> MoveAsync(CancellationToken ct)
    {
        await using var conn = await db.Service.OpenConnectionAsync(ct);
        var moved = 0;
        foreach (var (projectId, userInfo) in await RepoCredentialStore.MovedOutOfUrlsAsync(conn))
        {
            var (username, secret) = ProjectRules.CredentialOf(userInfo);
            if (await RepoCredentialStore.AdoptAsync(conn, projectId, userInfo, username, protector.Protect(projectId, secret))) moved++;
        }
        if (moved > 0)
            log.LogWarning("Moved the credentials of {Count} project repository URL(s) into encrypted repository credentials.", moved);
        return moved;
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
