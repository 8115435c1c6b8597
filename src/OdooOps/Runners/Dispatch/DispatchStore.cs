using System.Text.Json;
using OdooOps.Builds;
using Dapper;
using Npgsql;
using NpgsqlTypes;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Runners.Dispatch;

/// <summary>The runner API's SQL: each call is one of the functions in Runners/Dispatch/Sql, run as ops_service.</summary>
public static class DispatchStore
{
    public sealed record RunnerIdentity(Guid Id, Guid? OrgId, string Name, int Capacity, string[] Labels);

    public static async Task<RunnerIdentity?> AuthenticateAsync(NpgsqlConnection c, byte[] tokenHash)
    {
        await using var cmd = new NpgsqlCommand("select id, org_id, name, capacity, labels from ops.authenticate_runner($1)", c);
        cmd.Parameters.Add(new() { Value = tokenHash });
        await using var r = await cmd.ExecuteReaderAsync();
        if (!await r.ReadAsync()) return null;
        return new RunnerIdentity(r.GetGuid(0), r.IsDBNull(1) ? null : r.GetGuid(1), r.GetString(2), r.GetInt32(3), r.GetFieldValue<string[]>(4));
    }

    public static Task<Guid> RegisterAsync(NpgsqlConnection c, byte[] registrationHash, string name, string[] labels, int capacity, string? version, byte[] tokenHash) =>
        c.ExecuteScalarAsync<Guid>("select ops.register_runner(@registrationHash, @name, @labels, @capacity, @version, @tokenHash)",
            new { registrationHash, name, labels, capacity, version, tokenHash });

    /// <summary>Registers (or refreshes) the embedded runner with a new token; <c>Disabled</c> when an admin disabled it.</summary>
    public static Task<(Guid Id, bool Disabled)> StartEmbeddedAsync(NpgsqlConnection c, string name, int capacity, string[] labels, string version, byte[] tokenHash) =>
        c.QuerySingleAsync<(Guid Id, bool Disabled)>("select id, disabled from ops.start_embedded_runner(@name, @capacity, @labels, @version, @tokenHash)",
            new { name, capacity, labels, version, tokenHash });

    sealed record JobRow(Guid build_id, Guid lease_id, DateTime lease_until, int attempt, Guid project_id, string project_slug, string odoo_version,
        string repo_url, string? commit_sha, string branch, string stage, string trigger, long log_seq_start, string env, string sealed_env);

    /// <summary>A leased job, and its secret variables as stored: sealed, for the server to open (JobVetting).</summary>
    public sealed record Claimed(Job Job, IReadOnlyDictionary<string, string> SealedEnv);

    public static async Task<List<Claimed>> ClaimAsync(NpgsqlConnection c, Guid runnerId, int max, int leaseSeconds)
    {
        var rows = await c.QueryAsync<JobRow>("select * from ops.claim_build_jobs(@runnerId, @max, @leaseSeconds)", new { runnerId, max, leaseSeconds });
        return [.. rows.Select(r => new Claimed(new Job(r.build_id, r.lease_id, leaseSeconds, r.attempt, r.project_id, r.project_slug, r.odoo_version,
            r.repo_url, r.commit_sha, r.branch, r.stage, r.trigger, r.log_seq_start,
            JsonSerializer.Deserialize<Dictionary<string, string>>(r.env) ?? []),
            JsonSerializer.Deserialize<Dictionary<string, string>>(r.sealed_env) ?? []))];
    }

    /// <summary>A project's repository credential as stored: the secret is ciphertext, for the server to decrypt.</summary>
    public sealed record StoredCredential(string Kind, string? Username, string Ciphertext);

    sealed class CompletionRow
    {
        public string[] Secrets { get; init; } = [];
        public string? Deployed { get; init; }
        public bool Network { get; init; }
        public string? Kind { get; init; }
        public string? Username { get; init; }
        public string? Secret { get; init; }
        public string? DeployedRequirementsSha256 { get; init; }
        public Guid? StagingBackupId { get; init; }
        public string? LiveDatabase { get; init; }
        public Guid? LiveInstanceId { get; init; }
        public long? LogSeqNext { get; init; }
        public string? BranchLabel { get; init; }
        public string? ProjectLabel { get; init; }
        public Guid BranchId { get; init; }
    }

    /// <summary>
    /// What the runner needs beyond the claim, in one round trip: the names of the job's secret variables (masked in its
    /// log; ops.build_secret_names), for production what the branch runs now (its last successful build's modules;
    /// ops.deployed_build_modules), whether its steps may go out (ops.build_network_access), the project's repository
    /// credential, still encrypted (ops.build_repo_credential), and what the build deploys over (the deployed
    /// requirements, a staging build's copy of production, the branch's URL: ops.build_deploy_context).
    /// </summary>
    public static async Task<(Job Job, StoredCredential? Credential)> CompleteAsync(NpgsqlConnection c, Guid runnerId, Job job,
        Func<string?, string?, string?> baseUrl)
    {
        var production = job.Stage == "production";
        var row = await c.QuerySingleAsync<CompletionRow>("""
            select ops.build_secret_names(@runnerId, @BuildId, @LeaseId) as secrets,
                   case when @production then ops.deployed_build_modules(@runnerId, @BuildId, @LeaseId)::text end as deployed,
                   ops.build_network_access(@runnerId, @BuildId, @LeaseId) as network,
                   r.kind, r.username, r.secret, x.*
              from ops.build_deploy_context(@runnerId, @BuildId, @LeaseId) x
              left join ops.build_repo_credential(@runnerId, @BuildId, @LeaseId) r on true
            """, new { runnerId, job.BuildId, job.LeaseId, production });
        return (job with
        {
            SecretNames = row.Secrets,
            NetworkAccess = row.Network,
            DeployedModules = row.Deployed is null ? null : JsonSerializer.Deserialize<List<DeployedModule>>(row.Deployed, Json),
            DeployedRequirementsSha256 = row.DeployedRequirementsSha256,
            StagingSource = row.StagingBackupId is null && row.LiveDatabase is null
                ? null : new StagingCopy(row.StagingBackupId, row.LiveDatabase, row.LiveInstanceId),
            BaseUrl = baseUrl(row.BranchLabel, row.ProjectLabel),
            LogSeqStart = Math.Max(job.LogSeqStart, row.LogSeqNext ?? 0),
            BranchId = row.BranchId,
        }, row.Kind is null ? null : new StoredCredential(row.Kind, row.Username, row.Secret!));
    }

    public static Task<Extended> ExtendAsync(NpgsqlConnection c, Guid runnerId, Guid buildId, Guid leaseId, int leaseSeconds) =>
        c.QuerySingleAsync<Extended>("select lease_until as leaseuntil, cancel_requested as cancelrequested from ops.extend_build_lease(@runnerId, @buildId, @leaseId, @leaseSeconds)",
            new { runnerId, buildId, leaseId, leaseSeconds });

    public static Task RecordSourceAsync(NpgsqlConnection c, Guid runnerId, Guid buildId, SourceRequest r)
    {
        var modules = r.Modules is null ? null : JsonSerializer.Serialize(r.Modules, Json);
        return c.ExecuteAsync("select ops.record_build_source(@runnerId, @buildId, @LeaseId, @CommitSha, @CommitMessage, @modules::jsonb, @RequirementsSha256)",
            new { runnerId, buildId, r.LeaseId, r.CommitSha, r.CommitMessage, modules, r.RequirementsSha256 });
    }

    public static Task<LogsAccepted> AppendLogsAsync(NpgsqlConnection c, Guid runnerId, Guid buildId, Guid leaseId, IReadOnlyList<LogLine> lines,
        long maxLines, long maxBytes) => AppendLogsAsync(c, "ops.append_build_logs", runnerId, buildId, leaseId, lines, maxLines, maxBytes);

    /// <summary>Log lines under a lease through <paramref name="function"/> (a build's or a task's: the same arguments and answer).</summary>
    internal static async Task<LogsAccepted> AppendLogsAsync(NpgsqlConnection c, string function, Guid runnerId, Guid id, Guid leaseId,
        IReadOnlyList<LogLine> lines, long maxLines, long maxBytes)
    {
        await using var cmd = new NpgsqlCommand($"select stored, cut from {function}($1, $2, $3, $4, $5, $6, $7, $8, $9)", c);
        cmd.Parameters.Add(new() { Value = runnerId });
        cmd.Parameters.Add(new() { Value = id });
        cmd.Parameters.Add(new() { Value = leaseId });
        cmd.Parameters.Add(new() { Value = lines.Select(l => l.Seq).ToArray() });
        cmd.Parameters.Add(new() { Value = lines.Select(l => l.Ts ?? DateTime.UtcNow).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = lines.Select(l => l.Stream!).ToArray() });
        cmd.Parameters.Add(new() { Value = lines.Select(l => l.Line!).ToArray() });
        cmd.Parameters.Add(new() { Value = maxLines });
        cmd.Parameters.Add(new() { Value = maxBytes });
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new LogsAccepted(reader.GetInt32(0), reader.GetBoolean(1));
    }

    public static Task ReportStepAsync(NpgsqlConnection c, Guid runnerId, Guid buildId, int seq, StepRequest r) =>
        c.ExecuteAsync("select ops.report_build_step(@runnerId, @buildId, @LeaseId, @seq, @Name, @Status, @ExitCode, @StartedAt, @DurationMs)",
            new { runnerId, buildId, r.LeaseId, seq, r.Name, r.Status, r.ExitCode, r.StartedAt, r.DurationMs });

    public static Task<string> ReleaseAsync(NpgsqlConnection c, Guid runnerId, Guid buildId, ReleaseRequest r) =>
        c.ExecuteScalarAsync<string>("select ops.release_build_job(@runnerId, @buildId, @LeaseId, @Reason)",
            new { runnerId, buildId, r.LeaseId, r.Reason })!;

    /// <summary>The result, and with a kept release of a successful build its instance (a reverted one: its deployment), in one transaction.</summary>
    public static async Task FinishAsync(NpgsqlConnection c, Guid runnerId, Guid buildId, DoneRequest r)
    {
        await using var tx = await c.BeginTransactionAsync();
        if (r.Release is { } release && r.Result is BuildStatus.Success or BuildStatus.Warning)
            await c.ExecuteAsync("select ops.record_build_release(@runnerId, @buildId, @LeaseId, @DatabaseName)",
                new { runnerId, buildId, r.LeaseId, release.DatabaseName }, tx);
        await c.ExecuteAsync("select ops.finish_build_job(@runnerId, @buildId, @LeaseId, @Result, @Detail)",
            new { runnerId, buildId, r.LeaseId, r.Result, r.Detail }, tx);
        if (r.Reverted is { } reverted && r.Result == BuildStatus.Failed) // the deployment history's "reverted", after the lease check
            await c.ExecuteAsync("select ops_private.record_reverted_deploy(@buildId, @ToBuildId, @BackupId)",
                new { buildId, reverted.ToBuildId, reverted.BackupId }, tx);
        await tx.CommitAsync();
    }
}
