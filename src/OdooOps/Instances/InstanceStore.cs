using System.Text.Json.Serialization;
using Dapper;
using Npgsql;

namespace OdooOps.Instances;

/// <summary>
/// One Odoo server of a branch at one build (its release), as the API, the console and the CLI show it: what people
/// asked for (<see cref="Desired"/>), what its runner reports (<see cref="State"/> with its <see cref="Reason"/>, ports,
/// restarts, times), and the caller's right to act on it (<see cref="CanManage"/>, ops.can_manage_instance).
/// </summary>
public sealed record Instance
{
    public Guid Id { get; init; }
    public Guid ProjectId { get; init; }
    public Guid BranchId { get; init; }
    public string Branch { get; init; } = "";
    public string Stage { get; init; } = "";
    public Guid BuildId { get; init; }
    public string? CommitSha { get; init; }
    /// <summary>starting, running, unhealthy, stopping, stopped, failed or unknown (its runner has not reported for a while).</summary>
    public string State { get; init; } = "";
    public string? Reason { get; init; }
    /// <summary>running or stopped: what people asked for.</summary>
    public string Desired { get; init; } = "";
    public int RestartGeneration { get; init; }
    /// <summary>The branch's host names reach this one.</summary>
    public bool IsCurrent { get; init; }
    public string? Url { get; init; }
    public Guid? RunnerId { get; init; }
    public string? RunnerName { get; init; }
    public int? HttpPort { get; init; }
    public string DatabaseName { get; init; } = "";
    public int Restarts { get; init; }
    public DateTime? StartedAt { get; init; }
    public DateTime? ReadyAt { get; init; }
    /// <summary>Seconds since it became ready, while it runs.</summary>
    public long? UptimeSeconds { get; init; }
    public DateTime? StoppedAt { get; init; }
    public DateTime? ExpiresAt { get; init; }
    public DateTime? RetiredAt { get; init; }
    /// <summary>Production: how long the site was down while this release replaced the previous one.</summary>
    public long? DowntimeMs { get; init; }
    public DateTime CreatedAt { get; init; }
    /// <summary>May the caller start, stop and restart it.</summary>
    public bool CanManage { get; init; }

    [JsonIgnore] public string? BranchHostLabel { get; init; }
    [JsonIgnore] public string? ProjectHostLabel { get; init; }

    [JsonIgnore] public bool IsRetired => RetiredAt is not null;
    [JsonIgnore] public bool IsProduction => Stage == "production";
}

/// <summary>Instances' SQL, inside a user transaction (RLS decides what exists).</summary>
internal static class InstanceStore
{
    public static readonly string[] States = ["starting", "running", "unhealthy", "stopping", "stopped", "failed", "unknown"];
    public static readonly string[] Actions = ["start", "stop", "restart"];

    const string Select = """
        select i.id, i.project_id, i.branch_id, b.name as branch, i.stage, i.build_id, bu.commit_sha, i.state, i.reason, i.desired,
               i.restart_generation, i.is_current, i.runner_id, r.name as runner_name, i.http_port, i.database_name, i.restarts,
               i.started_at, i.ready_at, i.stopped_at, i.expires_at, i.retired_at, i.downtime_ms, i.created_at,
               case when i.state in ('running', 'unhealthy') and i.ready_at is not null
                    then greatest(0, extract(epoch from now() - i.ready_at))::bigint end as uptime_seconds,
               ops.can_manage_instance(i.project_id, i.branch_id, i.stage) as can_manage,
               b.host_label as branch_host_label, p.host_label as project_host_label
          from ops.instances i
          join ops.branches b on b.id = i.branch_id
          join ops.projects p on p.id = i.project_id
          join ops.builds bu on bu.id = i.build_id
          -- RLS shows org runners to org members and shared runners to everyone: a project-only member sees no name.
          left join ops.runners r on r.id = i.runner_id
        """;

    /// <summary>A project's instances: production, staging, development, by branch, newest first; retired ones only when asked.</summary>
    public static async Task<IReadOnlyList<Instance>> ListAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId, Guid? branchId, bool withRetired) =>
        [.. await c.QueryAsync<Instance>($"""
            {Select}
             where i.project_id = @projectId
               and (@branchId::uuid is null or i.branch_id = @branchId)
               and (@withRetired or i.retired_at is null)
             order by case i.stage when 'production' then 0 when 'staging' then 1 else 2 end, b.name, i.is_current desc, i.created_at desc
             limit 500
            """, new { projectId, branchId, withRetired }, t)];

    public static Task<Instance?> GetAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid instanceId) =>
        c.QuerySingleOrDefaultAsync<Instance>($"{Select} where i.id = @instanceId", new { instanceId }, t);

    /// <summary>The branch, when it is the project's (null otherwise, another tenant's included).</summary>
    public static Task<bool> BranchExistsAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId, Guid branchId) =>
        c.ExecuteScalarAsync<bool>("select exists (select 1 from ops.branches where id = @branchId and project_id = @projectId)", new { projectId, branchId }, t);
}
