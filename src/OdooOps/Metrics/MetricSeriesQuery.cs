using System.Globalization;
using System.Text.RegularExpressions;
using OdooOps.Server;

namespace OdooOps.Metrics;

/// <summary>Where a series is read from: raw samples, or the minute or hour rollups, and the finest step each allows.</summary>
internal enum MetricResolution { Raw, Minute, Hour }

/// <summary>
/// A checked <c>GET …/metrics</c> request, for the API and the console alike. The span is from–to, or a named range
/// (<see cref="Ranges"/>: 1h, 24h, 7d, 30d, ending now). The source follows the span: raw samples under 2 hours, minute
/// rollups under 3 days (hour rollups when the step is whole hours), hour rollups beyond. The step (bucket width) defaults to a round value giving at most
/// <see cref="TargetPoints"/> points; a given step must be a whole multiple of the source's granularity (minute
/// rollups cannot be split into 10-second buckets). From and to are widened to whole steps, aligned on the Unix epoch,
/// so that every bucket is complete; the answer says which bounds it used.
/// </summary>
internal sealed partial record MetricSeriesQuery(string Metric, string? Branch, DateTime From, DateTime To, TimeSpan Step, MetricResolution Resolution)
{
    public const int TargetPoints = 300;
    public const int MaxPoints = 10_000;
    public static readonly TimeSpan RawBelow = TimeSpan.FromHours(2);
    public static readonly TimeSpan MinuteBelow = TimeSpan.FromDays(3);
    public static readonly TimeSpan DefaultSpan = TimeSpan.FromHours(1);

    /// <summary>The named ranges the console offers and <c>?range=</c> accepts, each ending now.</summary>
    public static readonly IReadOnlyDictionary<string, TimeSpan> Ranges = new Dictionary<string, TimeSpan>
    {
        ["1h"] = TimeSpan.FromHours(1), ["24h"] = TimeSpan.FromHours(24), ["7d"] = TimeSpan.FromDays(7), ["30d"] = TimeSpan.FromDays(30),
    };

    static readonly int[] RoundSteps =
        [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];

    public static TimeSpan Granularity(MetricResolution r) => r switch
    {
        MetricResolution.Raw => TimeSpan.FromSeconds(1),
        MetricResolution.Minute => TimeSpan.FromMinutes(1),
        _ => TimeSpan.FromHours(1),
    };

    public static MetricResolution ResolutionFor(TimeSpan span) =>
        span < RawBelow ? MetricResolution.Raw : span < MinuteBelow ? MetricResolution.Minute : MetricResolution.Hour;

    /// <summary>Returns the query, or the field errors (metric, branch, range, from, to, step) as a Validation.</summary>
    public static (MetricSeriesQuery? Query, Validation Errors) Parse(string? metric, string? branch, string? from, string? to, string? step, DateTime nowUtc,
        string? range = null)
    {
        var v = new Validation();
        if (string.IsNullOrWhiteSpace(metric)) v.Add("metric", "metric is required, such as cpu_pct.");
        else if (!MetricName().IsMatch(metric)) v.Add("metric", "metric must match ^[a-z][a-z0-9_.]{0,63}$.");
        return Span(metric ?? "", branch, from, to, step, nowUtc, range, v);
    }

    /// <summary>The span alone, for every metric of a branch at once (Metric is empty): the field errors of branch, range, from, to, step.</summary>
    public static (MetricSeriesQuery? Query, Validation Errors) ParseSpan(string? branch, string? from, string? to, string? step, DateTime nowUtc,
        string? range = null) => Span("", branch, from, to, step, nowUtc, range, new Validation());

    static (MetricSeriesQuery? Query, Validation Errors) Span(string metric, string? branch, string? from, string? to, string? step, DateTime nowUtc,
        string? range, Validation v)
    {
        if (range is not null)
        {
            if (!Ranges.TryGetValue(range, out var span)) v.Add("range", $"range must be one of: {string.Join(", ", Ranges.Keys)}.");
            else if (from is not null || to is not null) v.Add("range", "Give either range or from and to, not both.");
            else (from, to) = (IngestTimestamp.Format(nowUtc - span), IngestTimestamp.Format(nowUtc));
        }
        if (branch is not null && string.IsNullOrWhiteSpace(branch)) v.Add("branch", "branch, when given, must name a branch.");

        DateTime? toUtc = to is null ? nowUtc : Time("to", to, v);
        DateTime? fromUtc = from is null ? toUtc - DefaultSpan : Time("from", from, v);
        TimeSpan? stepValue = step is null ? null : StepValue(step, v);
        if (!v.IsValid || fromUtc is null || toUtc is null) return (null, v);
        if (fromUtc >= toUtc) return (null, v.Add("from", "from must be earlier than to."));
        if (toUtc - fromUtc > TimeSpan.FromDays(3660)) return (null, v.Add("from", "The range may span at most 3660 days."));

        var resolution = ResolutionFor(toUtc.Value - fromUtc.Value);
        var grain = Granularity(resolution);
        var source = $"{resolution.ToString().ToLowerInvariant()} {(resolution == MetricResolution.Raw ? "samples" : "rollups")}";
        TimeSpan chosen;
        if (stepValue is { } s)
        {
            if (s.Ticks % grain.Ticks != 0)
                return (null, v.Add("step", $"For this range the series comes from {source}: step must be a whole number of {Unit(grain)}."));
            chosen = s;
        }
        else
        {
            var wanted = (toUtc.Value - fromUtc.Value).TotalSeconds / TargetPoints;
            chosen = TimeSpan.FromSeconds(RoundSteps.FirstOrDefault(r => r >= wanted && r % (long)grain.TotalSeconds == 0, 604800));
        }

        // Hour rollups are folded with the minute ones and merge them exactly: whole-hour steps read the 60 times fewer rows.
        if (resolution == MetricResolution.Minute && chosen.Ticks % TimeSpan.TicksPerHour == 0) resolution = MetricResolution.Hour;
        var start = Floor(fromUtc.Value, chosen);
        var end = Floor(toUtc.Value.AddTicks(chosen.Ticks - 1), chosen);
        if ((end - start).Ticks / chosen.Ticks > MaxPoints)
            return (null, v.Add("step", $"This step gives more than {MaxPoints} points for the range; use a larger step."));
        return (new MetricSeriesQuery(metric, branch, start, end, chosen, resolution), v);
    }

    static DateTime Floor(DateTime utc, TimeSpan step) => new(utc.Ticks - (utc.Ticks - DateTime.UnixEpoch.Ticks) % step.Ticks, DateTimeKind.Utc);

    static string Unit(TimeSpan grain) => grain == TimeSpan.FromHours(1) ? "hours (3600s, 1h …)" : "minutes (60s, 5m …)";

    static DateTime? Time(string field, string text, Validation v)
    {
        if (IngestTimestamp.TryParse(text, out var utc)) return utc;
        v.Add(field, $"{field} must be {IngestTimestamp.Expected}.");
        return null;
    }

    /// <summary>Seconds ("90"), or a number with a unit: 30s, 5m, 1h, 1d.</summary>
    static TimeSpan? StepValue(string text, Validation v)
    {
        var m = StepPattern().Match(text.Trim());
        if (m.Success && long.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is > 0 and <= 31_536_000)
        {
            var seconds = n * (m.Groups[2].Value switch { "m" => 60L, "h" => 3600L, "d" => 86400L, _ => 1L });
            if (seconds <= 31_536_000) return TimeSpan.FromSeconds(seconds);
        }
        v.Add("step", "step must be a duration such as 60, 30s, 5m, 1h or 1d (at most a year).");
        return null;
    }

    [GeneratedRegex("^[a-z][a-z0-9_.]{0,63}$")]
    private static partial Regex MetricName();

    [GeneratedRegex("^([0-9]{1,9})([smhd]?)$")]
    private static partial Regex StepPattern();
}
