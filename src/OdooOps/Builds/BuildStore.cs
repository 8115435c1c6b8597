using System.Text;
using Dapper;
using Npgsql;

namespace OdooOps.Builds;

internal sealed record Build(Guid Id, Guid ProjectId, Guid BranchId, string Branch, string Stage, string Status, string Trigger,
    string? CommitSha, string? CommitMessage, Guid? TriggeredBy, int Attempt, DateTime? CancelRequestedAt,
    DateTime QueuedAt, DateTime? StartedAt, DateTime? FinishedAt, string? ResultDetail, DateTime CreatedAt,
    Guid? RunnerId, string? RunnerName)
{
    /// <summary>Finished: success, warning, failed, cancelled or timed_out. Nothing changes a finished build's status.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsFinished => BuildStatus.IsFinal(Status);
}

/// <summary>Builds' SQL, inside a user transaction.</summary>
internal static class BuildStore
{

    const string Select = """
        select b.id, b.project_id, b.branch_id, br.name as branch, br.stage, b.status, b.trigger, b.commit_sha, b.commit_message,
               b.triggered_by, b.attempt, b.cancel_requested_at, b.queued_at, b.started_at, b.finished_at, b.result_detail, b.created_at,
               b.runner_id, r.name as runner_name
          from ops.builds b
          join ops.branches br on br.id = b.branch_id
          -- RLS shows org runners to org members and shared runners to everyone: a project-only member sees no name.
          left join ops.runners r on r.id = b.runner_id
        """;

    /// <summary>Newest first; keyset pagination on (created_at, id) so pages never skip or repeat a build.</summary>
    public static async Task<(IReadOnlyList<Build> Page, string? Next)> ListAsync(
        NpgsqlConnection conn, NpgsqlTransaction tx, Guid projectId, Guid? branchId, string? status, Cursor? after, int limit)
    {
        var rows = (await conn.QueryAsync<Build>($"""
            {Select}
             where b.project_id = @projectId
               and (@branchId::uuid is null or b.branch_id = @branchId)
               and (@status::text is null or b.status = @status)
               and (@afterAt::timestamptz is null or (b.created_at, b.id) < (@afterAt, @afterId))
             order by b.created_at desc, b.id desc
             limit @take
            """, new { projectId, branchId, status, afterAt = after?.CreatedAt, afterId = after?.Id, take = limit + 1 }, tx)).ToList();
        var next = rows.Count > limit ? new Cursor(rows[limit - 1].CreatedAt, rows[limit - 1].Id).Encode() : null;
        return (rows.Take(limit).ToList(), next);
    }

    /// <summary>The newest <paramref name="perStage"/> builds of each stage's live branches (production, staging, development).</summary>
    public static async Task<IReadOnlyList<Build>> LatestPerStageAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid projectId, int perStage) =>
        [.. await conn.QueryAsync<Build>($"""
            select x.* from unnest(array['production', 'staging', 'development']) with ordinality s(stage, n)
            cross join lateral ({Select}
                                 where b.project_id = @projectId and br.stage = s.stage and br.archived_at is null
                                 order by b.created_at desc, b.id desc
                                 limit @perStage) x
             order by s.n, x.created_at desc
            """, new { projectId, perStage }, tx)];

    public static Task<Build?> GetAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid buildId) =>
        conn.QuerySingleOrDefaultAsync<Build>($"{Select} where b.id = @buildId", new { buildId }, tx);

    public sealed record Cursor(DateTime CreatedAt, Guid Id)
    {
        public string Encode() =>
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{CreatedAt.Ticks}:{Id}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

        public static Cursor? Decode(string? value)
        {
            if (string.IsNullOrEmpty(value)) return null;
            try
            {
                var b64 = value.Replace('-', '+').Replace('_', '/');
                b64 = b64.PadRight(b64.Length + (4 - b64.Length % 4) % 4, '=');
                var parts = Encoding.UTF8.GetString(Convert.FromBase64String(b64)).Split(':');
                return new Cursor(new DateTime(long.Parse(parts[0]), DateTimeKind.Utc), Guid.Parse(parts[1]));
            }
            catch (Exception e) when (e is FormatException or IndexOutOfRangeException or ArgumentException or OverflowException)
            {
                throw new FormatException("Invalid cursor.");
            }
        }
    }
}
