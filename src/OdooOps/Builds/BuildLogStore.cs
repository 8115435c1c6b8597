using System.Text.Json;
using Dapper;
using Npgsql;

namespace OdooOps.Builds;

/// <summary>One stored line of a build's log; <see cref="Seq"/> orders the lines and is the SSE event id.</summary>
public sealed record BuildLogLine(long Seq, DateTime Ts, string Stream, string Line);

/// <summary>A step of the build's current attempt, as the runner last reported it.</summary>
public sealed record BuildStep(int Seq, string Name, string Status, int? ExitCode, DateTime? StartedAt, DateTime? FinishedAt, long? DurationMs);

/// <summary>An Odoo module (addon) the runner found in the checked-out commit.</summary>
public sealed record BuildModule(string Name, string? Path, string? Title, string? Version, IReadOnlyList<string> Depends, bool Installable);

/// <summary>A page of the log: lines after a sequence number; <see cref="Complete"/> once the build finished and no line is left.</summary>
internal sealed record BuildLogPage(Guid BuildId, string Status, IReadOnlyList<BuildLogLine> Lines, long NextAfter, bool Complete);

internal sealed record BuildStepList(Guid BuildId, string Status, IReadOnlyList<BuildStep> Steps);

internal sealed record BuildModuleList(Guid BuildId, string? CommitSha, IReadOnlyList<BuildModule> Modules);

/// <summary>
/// Reads logs, steps and modules inside a user transaction (RLS decides what exists). The status is always read
/// before the lines, in a later statement: a build seen finished therefore has every line it will ever have
/// visible to the line query, so "complete" never cuts off the last lines.
/// </summary>
internal static class BuildLogStore
{
    /// <summary>Where a reader stands: the build's status (and outcome) as of now.</summary>
    public sealed record BuildState(string Status, string? ResultDetail, DateTime? StartedAt, DateTime? FinishedAt)
    {
        public bool IsFinished => BuildStatus.IsFinal(Status);
    }

    static readonly JsonSerializerOptions ModuleJson = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static Task<BuildState?> StateAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid buildId) =>
        c.QuerySingleOrDefaultAsync<BuildState>("select status, result_detail, started_at, finished_at from ops.builds where id = @buildId", new { buildId }, t);

    /// <summary>Lines with seq &gt; <paramref name="after"/>, oldest first, at most <paramref name="limit"/>.</summary>
    public static async Task<IReadOnlyList<BuildLogLine>> LinesAfterAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid buildId, long after, int limit) =>
        (await c.QueryAsync<BuildLogLine>("""
            select seq, ts, stream, line from ops.build_logs
             where build_id = @buildId and seq > @after
             order by seq
             limit @limit
            """, new { buildId, after, limit }, t)).AsList();

    /// <summary>The last <paramref name="count"/> lines, oldest first (the console renders these before streaming the rest).</summary>
    public static async Task<IReadOnlyList<BuildLogLine>> TailAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid buildId, int count)
    {
        var lines = (await c.QueryAsync<BuildLogLine>("""
            select seq, ts, stream, line from ops.build_logs
             where build_id = @buildId
             order by seq desc
             limit @count
            """, new { buildId, count }, t)).AsList();
        lines.Reverse();
        return lines;
    }

    public static async Task<IReadOnlyList<BuildStep>> StepsAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid buildId) =>
        (await c.QueryAsync<BuildStep>("""
            select seq, name, status, exit_code, started_at, finished_at, duration_ms from ops.build_steps
             where build_id = @buildId order by seq
            """, new { buildId }, t)).AsList();

    /// <summary>The modules of a build (empty until a runner recorded them); null when the build is not visible.</summary>
    public static async Task<BuildModuleList?> ModulesAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid buildId)
    {
        var row = await c.QuerySingleOrDefaultAsync<ModuleRow>(
            "select commit_sha, modules::text as modules from ops.builds where id = @buildId", new { buildId }, t);
        return row is null ? null : new BuildModuleList(buildId, row.CommitSha, ParseModules(row.Modules));
    }

    sealed record ModuleRow(string? CommitSha, string Modules);

    /// <summary>The modules column as the runner wrote it; entries without a name are left out rather than failing the page.</summary>
    public static IReadOnlyList<BuildModule> ParseModules(string json)
    {
        try
        {
            var raw = JsonSerializer.Deserialize<List<RawModule?>>(json, ModuleJson) ?? [];
            return [.. raw.Where(m => !string.IsNullOrEmpty(m?.Name))
                .Select(m => new BuildModule(m!.Name!, m.Path, m.Title, m.Version, m.Depends ?? [], m.Installable ?? true))
                .OrderBy(m => m.Name, StringComparer.Ordinal)];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    sealed record RawModule(string? Name, string? Path, string? Title, string? Version, List<string>? Depends, bool? Installable);

    /// <summary>A page for GET …/logs: status first, then one line more than asked to know whether the page is the last.</summary>
    public static async Task<BuildLogPage?> PageAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid buildId, long after, int limit)
    {
        if (await StateAsync(c, t, buildId) is not { } state) return null;
        var lines = await LinesAfterAsync(c, t, buildId, after, limit + 1);
        var more = lines.Count > limit;
        var page = more ? lines.Take(limit).ToList() : lines;
        return new BuildLogPage(buildId, state.Status, page, page.Count > 0 ? page[^1].Seq : after, state.IsFinished && !more);
    }
}
