using Dapper;
using Npgsql;

namespace OdooOps.EnvVars;

/// <summary>A variable as people see it (public: the console's components take it): a secret's value is never read out (null), only that it is set, when and by whom.</summary>
public sealed record EnvVar(Guid Id, string Stage, string Name, bool Secret, string? Value, DateTime UpdatedAt, Guid? UpdatedBy, string? UpdatedByName);

/// <summary>An instance of a stage whose Odoo started before that stage's variables last changed: it runs with older ones.</summary>
internal sealed record RestartNeeded(Guid InstanceId, Guid BranchId, string Branch, string Stage, string State, DateTime? StartedAt);

/// <summary>ops.env_vars as the acting user (RLS: developers and up; production's secrets, admins and up).</summary>
internal static class EnvVarStore
{
    const string Columns = """
        v.id, v.stage, v.name, v.is_secret as secret, case when v.is_secret then null else v.value end as value,
        v.updated_at, v.updated_by, coalesce(u.display_name, u.email) as updated_by_name
        """;

    public static async Task<IReadOnlyList<EnvVar>> ListAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId, string? stage) =>
        [.. await c.QueryAsync<EnvVar>($"""
            select {Columns}
              from ops.env_vars v
              left join registry.users u on u.id = v.updated_by
             where v.project_id = @projectId and (@stage::text is null or v.stage = @stage)
             order by array_position(array['development', 'staging', 'production'], v.stage), v.name
            """, new { projectId, stage }, t)];

    public static Task<EnvVar?> GetAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId, string stage, string name) =>
        c.QuerySingleOrDefaultAsync<EnvVar>($"""
            select {Columns}
              from ops.env_vars v
              left join registry.users u on u.id = v.updated_by
             where v.project_id = @projectId and v.stage = @stage and v.name = @name
            """, new { projectId, stage, name }, t);

    /// <summary>The stages whose variables the acting user may change (ops.env_refusal says none against them).</summary>
    public static async Task<IReadOnlyList<string>> WritableStagesAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId) =>
        [.. await c.QueryAsync<string>("""
            select s from unnest(array['development', 'staging', 'production']) with ordinality as x(s, n)
             where ops.env_refusal(@projectId, s) is null order by n
            """, new { projectId }, t)];

    /// <summary>The running instances (of <paramref name="stage"/>, or of every stage) started before their stage's variables last changed.</summary>
    public static async Task<IReadOnlyList<RestartNeeded>> RestartNeededAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId, string? stage) =>
        [.. await c.QueryAsync<RestartNeeded>("""
            select i.id as instance_id, i.branch_id, br.name as branch, i.stage, i.state, i.started_at
              from ops.instances i
              join ops.branches br on br.id = i.branch_id
              join ops.env_stage_changes ch on ch.project_id = i.project_id and ch.stage = i.stage
             where i.project_id = @projectId and (@stage::text is null or i.stage = @stage)
               and i.retired_at is null and i.desired = 'running' and i.state in ('starting', 'running', 'unhealthy')
               and i.started_at < ch.changed_at
             order by array_position(array['production', 'staging', 'development'], i.stage), br.name
            """, new { projectId, stage }, t)];
}
