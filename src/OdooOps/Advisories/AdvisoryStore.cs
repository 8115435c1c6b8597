using Dapper;
using Npgsql;

namespace OdooOps.Advisories;

internal sealed record Advisory(
    Guid Id, Guid ProjectId, string ProjectSlug, string ProjectName, Guid? BranchId, string? Branch,
    string Rule, string Fingerprint, string Severity, string Title, string? Detail, string? Remediation, double? MeasuredValue,
    string Status, DateTime? SuppressedUntil, string? SuppressReason, DateTime FirstSeenAt, DateTime LastSeenAt, DateTime? ResolvedAt);

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
    public static async Task<IReadOnlyList<Advisory>> ListAsync(
        NpgsqlConnection conn, NpgsqlTransaction tx, Guid? projectId, string? status, string? severity) =>
        [.. await conn.QueryAsync<Advisory>($"""
            {Select}
             where (@projectId::uuid is null or a.project_id = @projectId)
               and (@status::text is null or a.status = @status)
               and (@severity::text is null or a.severity = @severity)
             order by case a.severity when 'critical' then 0 when 'warning' then 1 else 2 end, a.last_seen_at desc, a.id
             limit {MaxListed}
            """, new { projectId, status, severity }, tx)];

    public static Task<Advisory?> GetAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid projectId, Guid advisoryId) =>
        conn.QuerySingleOrDefaultAsync<Advisory>($"{Select} where a.id = @advisoryId and a.project_id = @projectId", new { projectId, advisoryId }, tx);

    /// <summary>Through ops.resolve_advisory and ops.suppress_advisory, which re-check the role (developer) under RLS.</summary>
    public static Task ResolveAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid advisoryId) =>
        conn.ExecuteAsync("select ops.resolve_advisory(@advisoryId)", new { advisoryId }, tx);

    public static Task SuppressAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid advisoryId, DateTimeOffset until, string reason) =>
        conn.ExecuteAsync("select ops.suppress_advisory(@advisoryId, @until, @reason)", new { advisoryId, until = until.ToUniversalTime(), reason }, tx); // Npgsql writes timestamptz from UTC only
}
