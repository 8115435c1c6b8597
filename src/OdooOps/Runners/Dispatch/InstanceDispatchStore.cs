using System.Text.Json;
using Dapper;
using Npgsql;
using NpgsqlTypes;
using OdooOps.Auth;
using OdooOps.Metrics;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Runners.Dispatch;

/// <summary>The instance half of the runner API's SQL (Instances/Sql), run as ops_service.</summary>
internal static class InstanceDispatchStore
{
    sealed class SpecRow
    {
        public Guid InstanceId { get; init; }
        public Guid ProjectId { get; init; }
        public string ProjectSlug { get; init; } = "";
        public Guid BranchId { get; init; }
        public string Branch { get; init; } = "";
        public string Stage { get; init; } = "";
        public Guid BuildId { get; init; }
        public string OdooVersion { get; init; } = "";
        public string Desired { get; init; } = "";
        public int RestartGeneration { get; init; }
        public bool Retired { get; init; }
        public string DatabaseName { get; init; } = "";
        public bool DropDatabase { get; init; }
        public int Workers { get; init; }
        public int CronThreads { get; init; }
        public int MemoryMb { get; init; }
        public decimal Cpus { get; init; }
        public string Env { get; init; } = "{}";
        public string SealedEnv { get; init; } = "{}";
        public string[] SecretNames { get; init; } = [];
        public long LogSeqNext { get; init; }
        public string? BranchLabel { get; init; }
        public string? ProjectLabel { get; init; }
        public long EnvRevision { get; init; }
    }

    /// <summary>
    /// Reports in, specs out, in one transaction; then a fresh ingest token for every project the runner hosts and holds
    /// none of (its hash stored, the token itself only in this answer), and the tasks leased to it now (RunnerTaskStore).
    /// Each spec's secret variables are opened by the server; one that does not open (another secrets key) is left out
    /// and logged by name.
    /// </summary>
    public static async Task<SyncResponse> SyncAsync(NpgsqlConnection c, Guid runnerId, SyncRequest request, Func<string?, string?, string?> baseUrl,
        int leaseSeconds, EnvVars.EnvSecretBox secrets, ILogger log)
    {
        var reports = JsonSerializer.Serialize(request.Instances ?? [], Json);
        await using var tx = await c.BeginTransactionAsync();
        var rows = (await c.QueryAsync<SpecRow>("""
            select instance_id, project_id, project_slug, branch_id, branch, stage, build_id, odoo_version, desired, restart_generation,
                   retired, database_name, drop_database, workers, cron_threads, memory_mb, cpus, env::text as env,
                   sealed_env::text as sealed_env, secret_names,
                   log_seq_next, branch_label, project_label, env_revision
              from ops.sync_runner_instances(@runnerId, @address, @reports::jsonb)
            """, new { runnerId, address = request.Address, reports }, tx)).ToList();
        var tokens = new Dictionary<Guid, string>();
        var held = (request.IngestTokensHeld ?? []).ToHashSet();
        foreach (var project in rows.Where(r => !r.Retired).Select(r => r.ProjectId).Distinct().Where(p => !held.Contains(p)))
        {
            var token = AccessTokens.Create(IngestTokens.Prefix);
            await c.ExecuteAsync("select ops.issue_runner_ingest_token(@runnerId, @project, @prefix, @hash)",
                new { runnerId, project, prefix = AccessTokens.Preview(token), hash = AccessTokens.Hash(token) }, tx);
            tokens[project] = token;
        }
        var keep = (await c.QueryAsync<Guid>("select ops.runner_kept_releases(@runnerId)",
            new { runnerId }, tx)).ToList();
        var tasks = await Backups.Tasks.RunnerTaskStore.ClaimAsync(c, tx, runnerId, leaseSeconds, baseUrl);
        await tx.CommitAsync();
        return new SyncResponse(
            [.. rows.Select(r => new InstanceSpec(r.InstanceId, r.ProjectId, r.ProjectSlug, r.BranchId, r.Branch, r.Stage, r.BuildId,
                r.OdooVersion, r.Desired, r.RestartGeneration, r.Retired, r.DatabaseName, r.DropDatabase, r.Workers, r.CronThreads,
                r.MemoryMb, r.Cpus, Env(r, secrets, log, out var secretNames), secretNames, r.LogSeqNext,
                baseUrl(r.BranchLabel, r.ProjectLabel)) { EnvRevision = r.EnvRevision })],
            tokens, keep) { Tasks = tasks };
    }

    static Dictionary<string, string> Env(SpecRow r, EnvVars.EnvSecretBox secrets, ILogger log, out IReadOnlyList<string> secretNames)
    {
        var env = JsonSerializer.Deserialize<Dictionary<string, string>>(r.Env) ?? [];
        var sealedEnv = JsonSerializer.Deserialize<Dictionary<string, string>>(r.SealedEnv) ?? [];
        foreach (var name in secrets.OpenInto(env, sealedEnv, r.ProjectId, r.Stage))
            log.LogWarning("Instance {Instance}: the {Stage} secret variable {Name} cannot be decrypted with this server's secrets key; it is left out.",
                r.InstanceId, r.Stage, name);
        secretNames = [.. r.SecretNames.Union(sealedEnv.Keys).Order(StringComparer.Ordinal)];
        return env;
    }

    public static async Task<int> AppendLogsAsync(NpgsqlConnection c, Guid runnerId, Guid instanceId, IReadOnlyList<InstanceLogLine> lines)
    {
        await using var cmd = new NpgsqlCommand("select ops.append_instance_logs($1, $2, $3, $4, $5, $6)", c);
        cmd.Parameters.Add(new() { Value = runnerId });
        cmd.Parameters.Add(new() { Value = instanceId });
        cmd.Parameters.Add(new() { Value = lines.Select(l => l.Seq).ToArray() });
        cmd.Parameters.Add(new() { Value = lines.Select(l => l.Ts ?? DateTime.UtcNow).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = lines.Select(l => l.Level ?? "INFO").ToArray() });
        cmd.Parameters.Add(new() { Value = lines.Select(l => l.Line!).ToArray() });
        return (int)(await cmd.ExecuteScalarAsync())!;
    }
}
