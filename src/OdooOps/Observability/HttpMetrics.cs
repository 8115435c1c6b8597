using System.Collections.Concurrent;
using System.Diagnostics;

namespace OdooOps.Observability;

/// <summary>
/// Request counts and latencies per (route pattern, method, status class), kept lock-free: one dictionary look-up
/// and three interlocked adds per request. A series is allocated once, on its first request; route patterns and
/// methods come from a bounded set (endpoint patterns, known verbs), so the number of series stays bounded too.
/// </summary>
internal sealed class HttpMetrics
{
    /// <summary>Upper bounds in seconds (Prometheus' defaults); the +Inf bucket is implicit.</summary>
    public static readonly double[] BucketBounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    public const string Unmatched = "unmatched";

    static readonly string[] StatusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx"];

    readonly ConcurrentDictionary<SeriesKey, Series> _series = new();

    public readonly record struct SeriesKey(string Route, string Method, string StatusClass);

    /// <summary>Non-cumulative bucket counts (cumulated when rendered) and the sum of durations in Stopwatch ticks.</summary>
    public sealed class Series
    {
        internal readonly long[] Counts = new long[BucketBounds.Length + 1];
        internal long SumTicks;
    }

    public readonly record struct Snapshot(SeriesKey Key, long[] CumulativeCounts, double SumSeconds)
    {
        public long Count => CumulativeCounts[^1];
    }

    public void Record(string route, string method, int status, long elapsedTicks)
    {
        var key = new SeriesKey(route, NormalizeMethod(method), StatusClasses[Math.Clamp(status / 100, 1, 5) - 1]);
        var series = _series.GetOrAdd(key, static _ => new Series());
        var seconds = (double)elapsedTicks / Stopwatch.Frequency;
        var bucket = 0;
        while (bucket < BucketBounds.Length && seconds > BucketBounds[bucket]) bucket++;
        Interlocked.Increment(ref series.Counts[bucket]);
        Interlocked.Add(ref series.SumTicks, elapsedTicks);
    }

    /// <summary>A consistent-enough copy for one scrape: +Inf and _count are derived from the same bucket reads.</summary>
    public IReadOnlyList<Snapshot> Collect()
    {
        var result = new List<Snapshot>(_series.Count);
        foreach (var (key, series) in _series)
        {
            var cumulative = new long[series.Counts.Length];
            long running = 0;
            for (var i = 0; i < cumulative.Length; i++) cumulative[i] = running += Interlocked.Read(ref series.Counts[i]);
            result.Add(new Snapshot(key, cumulative, (double)Interlocked.Read(ref series.SumTicks) / Stopwatch.Frequency));
        }
        result.Sort(static (a, b) =>
        {
            var c = string.CompareOrdinal(a.Key.Route, b.Key.Route);
            if (c == 0) c = string.CompareOrdinal(a.Key.Method, b.Key.Method);
            return c != 0 ? c : string.CompareOrdinal(a.Key.StatusClass, b.Key.StatusClass);
        });
        return result;
    }

    /// <summary>Known verbs keep their interned constant; anything else is one label, so clients cannot mint series.</summary>
    static string NormalizeMethod(string method) => HttpMethods.GetCanonicalizedValue(method) switch
    {
        var m when ReferenceEquals(m, HttpMethods.Get) || ReferenceEquals(m, HttpMethods.Post) || ReferenceEquals(m, HttpMethods.Put) ||
                   ReferenceEquals(m, HttpMethods.Patch) || ReferenceEquals(m, HttpMethods.Delete) || ReferenceEquals(m, HttpMethods.Head) ||
                   ReferenceEquals(m, HttpMethods.Options) => m,
        _ => "OTHER",
    };
}
