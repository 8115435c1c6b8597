namespace OdooOps.Bench;

/// <summary>Latency samples in milliseconds and the percentiles we report.</summary>
public sealed class Latencies(IEnumerable<double> samples)
{
    readonly double[] _sorted = [.. samples.Order()];

    public int Count => _sorted.Length;

    public double Percentile(double p) =>
        _sorted.Length == 0 ? double.NaN : _sorted[Math.Clamp((int)Math.Ceiling(p / 100 * _sorted.Length) - 1, 0, _sorted.Length - 1)];

    public string Describe(double seconds) =>
        $"n={Count,7}  {Count / seconds,8:F0}/s  p50={Percentile(50),7:F2} ms  p95={Percentile(95),7:F2} ms  p99={Percentile(99),7:F2} ms";
}
