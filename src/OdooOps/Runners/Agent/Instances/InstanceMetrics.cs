using System.Globalization;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Runners.Agent.Instances;

/// <summary>
/// Samples each running instance every <see cref="InstanceHosting.MetricsInterval"/>: CPU (percent of one core) and
/// resident memory of its process tree from /proc, and its request log lines since the last sample (count, server
/// errors, mean response time), sent through the ingest endpoint with the project's ingest token — so the rollups,
/// charts and advisories (cpu_high, memory_high, metrics_missing) watch real servers. A stopped instance sends nothing.
/// </summary>
internal sealed class InstanceMetrics(DispatchClient client, InstanceHosting hosting, ILogger log)
{
    static readonly long PageSize = Environment.SystemPageSize;
    const double TicksPerSecond = 100; // USER_HZ, 100 on every Linux ABI

    readonly Dictionary<Guid, (DateTime At, Dictionary<int, long> Ticks)> _last = [];

    /// <summary>The projects' ingest tokens, from the sync answers.</summary>
    public IReadOnlyDictionary<Guid, string> Tokens { get; set; } = new Dictionary<Guid, string>();

    public async Task RunAsync(Func<IReadOnlyList<(InstanceSpec Spec, InstanceProcess Process, RequestStats Requests)>> running, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(hosting.MetricsInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
                foreach (var (spec, process, requests) in running())
                    await SampleAsync(spec, process, requests, ct);
        }
        catch (OperationCanceledException) { }
    }

    async Task SampleAsync(InstanceSpec spec, InstanceProcess process, RequestStats requests, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        var ticks = new Dictionary<int, long>();
        long rss = 0;
        foreach (var pid in process.Processes())
        {
            if (Read(pid) is not { } stat) continue;
            ticks[pid] = stat.Ticks;
            rss += stat.Rss;
        }
        double? cpu = null;
        if (_last.TryGetValue(spec.InstanceId, out var last) && now > last.At)
        {
            var used = ticks.Sum(t => t.Value - (last.Ticks.TryGetValue(t.Key, out var before) && before <= t.Value ? before : 0));
            cpu = Math.Round(used / TicksPerSecond / (now - last.At).TotalSeconds * 100, 2);
        }
        _last[spec.InstanceId] = (now, ticks);
        var (count, errors, meanMs) = requests.Take();
        var memoryMb = Math.Round(rss / 1048576.0, 1);
        var samples = new List<object>
        {
            new { metric = "mem_mb", value = memoryMb, branch = spec.Branch },
            new { metric = "mem_pct", value = Math.Round(memoryMb * 100 / Math.Max(1, spec.MemoryMb), 2), branch = spec.Branch },
            new { metric = "requests", value = (double)count, branch = spec.Branch },
            new { metric = "request_errors", value = (double)errors, branch = spec.Branch },
        };
        if (cpu is { } pct) samples.Add(new { metric = "cpu_pct", value = pct, branch = spec.Branch });
        if (meanMs is { } ms) samples.Add(new { metric = "response_ms", value = Math.Round(ms, 2), branch = spec.Branch });
        if (!Tokens.TryGetValue(spec.ProjectId, out var token)) return;
        try
        {
            await client.PostMetricsAsync(token, new { project_id = spec.ProjectId, ts = now.ToString("O", CultureInfo.InvariantCulture), samples }, ct);
        }
        catch (HttpRequestException e)
        {
            log.LogWarning("Instance {InstanceId}: its samples were not accepted ({Message}).", spec.InstanceId, e.Message);
        }
    }

    /// <summary>utime + stime (clock ticks) and resident bytes of one process; null once it is gone.</summary>
    static (long Ticks, long Rss)? Read(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the command name (which may hold spaces, in parentheses): state is the third field.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            var rss = long.Parse(File.ReadAllText($"/proc/{pid}/statm").Split(' ')[1], CultureInfo.InvariantCulture) * PageSize;
            return (ticks, rss);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException) { return null; }
    }
}
