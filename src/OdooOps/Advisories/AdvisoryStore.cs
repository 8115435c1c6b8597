using Dapper;
using Npgsql;

namespace OdooOps.Advisories;

public sealed record Advisory(
    Guid Id, Guid ProjectId, string ProjectSlug, string ProjectName, Guid? BranchId, string? Branch,
    string Rule, string Fingerprint, string Severity, string Title, string? Detail, string? Remediation, double? MeasuredValue,
    string Status, DateTime? SuppressedUntil, string? SuppressReason, DateTime FirstSeenAt, DateTime LastSeenAt, DateTime? ResolvedAt);

/// <summary>
/// One step of an advisory's history: opened, suppressed (until, why), unsuppressed, resolved. No actor: the scan
/// (it opens, resolves, and reopens a suppression that ran out), or someone who is no longer a visible colleague.
/// </summary>
public sealed record AdvisoryEvent(long Id, Guid AdvisoryId, string Event, DateTime At, Guid? ActorUserId, string? ActorEmail, string? ActorName,
    DateTime? SuppressedUntil, string? Reason);

/// <summary>What a list shows: any of the filters may be null (all organisations' visible projects, every status…).</summary>
internal sealed record AdvisoryFilter(Guid? OrgId = null, Guid? ProjectId = null, string? Status = null, string? Severity = null, string? Rule = null);

/// <summary>Advisories' SQL, inside a user transaction: RLS shows the advisories of visible projects only.</summary>
internal static class AdvisoryStore
{
    public static readonly string[] Statuses = ["open", "resolved", "suppressed"];
    public static readonly string[] Severities = ["info", "warning", "critical"];

    /// <summary>A list answer is capped; a history longer than this is narrowed with filters.</summary>
    public const int MaxListed = 1000;

    public static int SeverityRank(string severity) => Array.IndexOf(Severities, severity);

    const string Select = """
        select a.id, a.project_id, p.slug as project_slug, p.name as project_name, a.branch_id, b.name as branch,
               a.rule, a.fingerprint, a.severity, a.title, a.detail, a.remediation, a.measured_value,
               a.status, a.suppressed_until, a.suppress_reason, a.first_seen_at, a.last_seen_at, a.resolved_at
          from ops.advisories a
          join ops.projects p on p.id = a.project_id
          left join ops.branches b on b.id = a.branch_id
        """;

    /// <summary>Most severe first, then most recently seen (as ops.list_advisories orders them).</summary>
    public static async Task<IReadOnlyList<Advisory>> ListAsync(NpgsqlConnection conn, NpgsqlTransaction tx, AdvisoryFilter f) =>
        [.. await conn.QueryAsync<Advisory>($"""
            {Select}
             where (@OrgId::uuid is null or p.org_id = @OrgId)
               and (@ProjectId::uuid is null or a.project_id = @ProjectId)
               and (@Status::text is null or a.status = @Status)
               and (@Severity::text is null or a.severity = @Severity)
               and (@Rule::text is null or a.rule = @Rule)
             order by case a.severity when 'critical' then 0 when 'warning' then 1 else 2 end, a.last_seen_at desc, a.id
             limit {MaxListed}
            """, f, tx)];

    /// <summary>The rules that raised the visible advisories of an organisation (or a project), for a filter's choices.</summary>
    public static async Task<IReadOnlyList<string>> RulesAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid? orgId, Guid? projectId) =>
        [.. await conn.QueryAsync<string>("""
            select distinct a.rule from ops.advisories a join ops.projects p on p.id = a.project_id
             where (@orgId::uuid is null or p.org_id = @orgId) and (@projectId::uuid is null or a.project_id = @projectId)
             order by 1
            """, new { orgId, projectId }, tx)];

    public static Task<Advisory?> GetAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid advisoryId) =>
        conn.QuerySingleOrDefaultAsync<Advisory>($"{Select} where a.id = @advisoryId", new { advisoryId }, tx);

    public static Task<Advisory?> GetAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid projectId, Guid advisoryId) =>
        conn.QuerySingleOrDefaultAsync<Advisory>($"{Select} where a.id = @advisoryId and a.project_id = @projectId", new { projectId, advisoryId }, tx);

    /// <summary>The histories of these advisories, oldest step first.</summary>
    public static async Task<IReadOnlyList<AdvisoryEvent>> HistoryAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyCollection<Guid> advisoryIds) =>
        advisoryIds.Count == 0 ? [] :
        [.. await conn.QueryAsync<AdvisoryEvent>("""
            select e.id, e.advisory_id, e.event, e.created_at as at, e.actor_user_id, u.email as actor_email, u.display_name as actor_name,
                   e.suppressed_until, e.reason
              from ops.advisory_events e left join registry.users u on u.id = e.actor_user_id
             where e.advisory_id = any (@ids)
             order by e.advisory_id, e.id
            """, new { ids = advisoryIds.ToArray() }, tx)];

    /// <summary>Projects of the acting user where they may resolve and suppress (the advisories_update policy's own test).</summary>
    public static async Task<IReadOnlySet<Guid>> ActionableProjectsAsync(NpgsqlConnection conn, NpgsqlTransaction tx) =>
        (await conn.ExecuteScalarAsync<Guid[]>("select ops.project_ids_with_role('developer')", transaction: tx) ?? []).ToHashSet();

    /// <summary>Through ops.resolve_advisory, ops.suppress_advisory and ops.unsuppress_advisory, which re-check the role (developer) under RLS.</summary>
    public static Task ResolveAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid advisoryId) =>
        conn.ExecuteAsync("select ops.resolve_advisory(@advisoryId)", new { advisoryId }, tx);

    public static Task SuppressAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid advisoryId, DateTimeOffset until, string reason) =>
        conn.ExecuteAsync("select ops.suppress_advisory(@advisoryId, @until, @reason)", new { advisoryId, until = until.ToUniversalTime(), reason }, tx); // Npgsql writes timestamptz from UTC only

    public static Task UnsuppressAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid advisoryId) =>
        conn.ExecuteAsync("select ops.unsuppress_advisory(@advisoryId)", new { advisoryId }, tx);
}
