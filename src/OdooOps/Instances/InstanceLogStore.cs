using Dapper;
using Npgsql;
using OdooOps.Server;

namespace OdooOps.Instances;

/// <summary>One line of an instance's Odoo log; <see cref="Seq"/> orders the lines and is the SSE event id.</summary>
public sealed record InstanceLogLine(long Seq, DateTime Ts, string Level, string Line);

/// <summary>A page of the log: the lines after a seq (or the last ones), and where to go on from.</summary>
/// <param name="NextAfterSeq">Pass as after_seq to get the lines that follow (-1 when none matched yet).</param>
/// <param name="HasMore">More matching lines are already stored after this page.</param>
internal sealed record InstanceLogPage(Guid InstanceId, string State, IReadOnlyList<InstanceLogLine> Lines, long NextAfterSeq, bool HasMore);

/// <summary>
/// Which lines a reader wants: Odoo's level at least <see cref="MinLevel"/> (DEBUG &lt; INFO &lt; WARNING &lt; ERROR &lt;
/// CRITICAL) and containing <see cref="Text"/> (case-insensitive); null: any.
/// </summary>
internal sealed record InstanceLogFilter(string? MinLevel, string? Text)
{
    public static readonly string[] Levels = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];
    public const int MaxTextLength = 200;

    public static readonly InstanceLogFilter None = new(null, null);

    /// <summary>The levels a line may have, or null for all.</summary>
    public string[]? AllowedLevels => MinLevel is null ? null : Levels[Array.IndexOf(Levels, MinLevel)..];

    /// <summary>The filter, or field errors named <paramref name="levelField"/> and <paramref name="textField"/>;
    /// the level is taken in any case ("warning"), empty values mean no filter.</summary>
    public static InstanceLogFilter Parse(string? level, string? text, Validation v, string levelField = "level", string textField = "q")
    {
        var upper = string.IsNullOrWhiteSpace(level) ? null : level.Trim().ToUpperInvariant();
        if (upper is not null && !Levels.Contains(upper)) v.Add(levelField, $"{levelField} must be one of: {string.Join(", ", Levels)}.");
        var q = string.IsNullOrEmpty(text) ? null : text;
        if (q is { Length: > MaxTextLength }) v.Add(textField, $"{textField} must be at most {MaxTextLength} characters.");
        return new InstanceLogFilter(upper, q);
    }
}

/// <summary>Reads instance logs inside a user transaction (RLS decides what exists), keyset by seq.</summary>
internal static class InstanceLogStore
{
    const string Where = """
        where instance_id = @instanceId
          and (@levels::text[] is null or level = any (@levels))
          and (@text::text is null or strpos(lower(line), lower(@text)) > 0)
        """;

    /// <summary>Matching lines with seq &gt; <paramref name="after"/>, oldest first, at most <paramref name="limit"/>.</summary>
    public static async Task<IReadOnlyList<InstanceLogLine>> AfterAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid instanceId,
        InstanceLogFilter filter, long after, int limit) =>
        (await c.QueryAsync<InstanceLogLine>($"""
            select seq, ts, level, line from ops.instance_logs
            {Where} and seq > @after
             order by seq
             limit @limit
            """, new { instanceId, levels = filter.AllowedLevels, text = filter.Text, after, limit }, t)).AsList();

    /// <summary>The last <paramref name="count"/> matching lines, oldest first.</summary>
    public static async Task<IReadOnlyList<InstanceLogLine>> TailAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid instanceId,
        InstanceLogFilter filter, int count)
    {
        var lines = (await c.QueryAsync<InstanceLogLine>($"""
            select seq, ts, level, line from ops.instance_logs
            {Where}
             order by seq desc
             limit @count
            """, new { instanceId, levels = filter.AllowedLevels, text = filter.Text, count }, t)).AsList();
        lines.Reverse();
        return lines;
    }

    /// <summary>The seq of the instance's last line, -1 when it has none.</summary>
    public static Task<long> LastSeqAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid instanceId) =>
        c.ExecuteScalarAsync<long>(
            "select coalesce((select seq from ops.instance_logs where instance_id = @instanceId order by seq desc limit 1), -1)", new { instanceId }, t);

    /// <summary>GET …/logs: after <paramref name="after"/> when given, else the last <paramref name="limit"/> lines; null when the instance is not visible.</summary>
    public static async Task<InstanceLogPage?> PageAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid instanceId, InstanceLogFilter filter, long? after, int limit)
    {
        var state = await c.QuerySingleOrDefaultAsync<string>("select state from ops.instances where id = @instanceId", new { instanceId }, t);
        if (state is null) return null;
        if (after is not { } from)
        {
            var tail = await TailAsync(c, t, instanceId, filter, limit);
            return new InstanceLogPage(instanceId, state, tail, tail.Count > 0 ? tail[^1].Seq : await LastSeqAsync(c, t, instanceId), false);
        }
        var lines = await AfterAsync(c, t, instanceId, filter, from, limit + 1);
        var more = lines.Count > limit;
        var page = more ? lines.Take(limit).ToList() : lines;
        return new InstanceLogPage(instanceId, state, page, page.Count > 0 ? page[^1].Seq : from, more);
    }
}
