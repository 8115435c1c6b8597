using Dapper;
using Npgsql;

namespace OdooOps.EnvVars;

/// <summary>A variable as people see it (public: the console's components take it): a secret's value is never read out (null), only that it is set, when and by whom.</summary>
public sealed record EnvVar(Guid Id, string Stage, string Name, bool Secret, string? Value, DateTime UpdatedAt, Guid? UpdatedBy, string? UpdatedByName);

/// <summary>An instance whose Odoo was started with older variables than its stage's current ones.</summary>
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

    /// <summary>
    /// The running instances (of <paramref name="stage"/>, or of every stage) whose server was started with an older
    /// revision of their stage's variables than the current one: both are the server's counts (the runner reports the
    /// revision the sync answer gave it with the variables it started the server with), so no runner clock decides and
    /// a change between that answer and the start is not missed. An instance whose runner reports no revision (an
    /// older runner) is judged by when it started, by that runner's clock.
    /// </summary>
    public static async Task<IReadOnlyList<RestartNeeded>> RestartNeededAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId, string? stage) =>
        [.. await c.QueryAsync<RestartNeeded>("""
            select i.id as instance_id, i.branch_id, br.name as branch, i.stage, i.state, i.started_at
              from ops.instances i
              join ops.branches br on br.id = i.branch_id
              join ops.env_stage_changes ch on ch.project_id = i.project_id and ch.stage = i.stage
             where i.project_id = @projectId and (@stage::text is null or i.stage = @stage)
               and i.retired_at is null and i.desired = 'running' and i.state in ('starting', 'running', 'unhealthy')
               and case when i.env_revision is not null then i.env_revision < ch.revision else i.started_at < ch.changed_at end
             order by array_position(array['production', 'staging', 'development'], i.stage), br.name
            """, new { projectId, stage }, t)];
}
