using Dapper;
using Npgsql;
using OdooOps.Database;

namespace OdooOps.EnvVars;

/// <summary>
/// Seals the secret values stored in plain text (by a version before sealing, a hand-written insert, the demo seed) —
/// of variables and of the snapshots of builds queued with them — and clears the plain text. Runs as `serve` starts,
/// before it listens, as ops_service; idempotent and safe beside another replica doing the same (a value changed
/// meanwhile is left to its new writer). A failure is logged and tried again at the next start; meanwhile the runner API
/// still hands those values out as they are.
/// </summary>
internal sealed class EnvSecretSeal(OpsDatabase db, EnvSecretBox box, ILogger<EnvSecretSeal> log) : IHostedService
{
    sealed record Waiting(Guid? BuildId, Guid ProjectId, string Stage, string Name, string Value);

    public async Task StartAsync(CancellationToken ct)
    {
        try
        {
            if (await SealAsync(ct) is > 0 and var sealedCount)
                log.LogWarning("Encrypted {Count} secret variable value(s) that were stored in plain text.", sealedCount);
        }
        catch (NpgsqlException e)
        {
            log.LogError("Secret variables stored in plain text could not be encrypted yet ({Message}); trying again at the next start.", e.Message);
        }
    }

    /// <summary>Seals every waiting value; how many it sealed.</summary>
    public async Task<int> SealAsync(CancellationToken ct)
    {
        await using var conn = await db.Service.OpenConnectionAsync(ct);
        var count = 0;
        foreach (var w in await conn.QueryAsync<Waiting>("select build_id, project_id, stage, name, value from ops.env_secrets_to_seal()"))
            if (await conn.ExecuteScalarAsync<bool>("select ops.seal_env_secret(@BuildId, @ProjectId, @Stage, @Name, @Value, @sealedText)",
                    new { w.BuildId, w.ProjectId, w.Stage, w.Name, w.Value, sealedText = box.Seal(w.ProjectId, w.Stage, w.Name, w.Value) }))
                count++;
        return count;
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
