using System.Diagnostics.Metrics;
using Npgsql;

namespace OdooOps.Observability;

/// <summary>
/// Connection-pool usage as Npgsql 10 publishes it on its "Npgsql" meter: <c>db.client.connection.count</c>
/// (per pool and state idle/used) and <c>db.client.connection.max</c>, both observable up-down counters, read
/// only when /metrics is scraped. Npgsql names a pool by its connection string without the password; we label
/// it by its Application Name instead (odooops-app, odooops-service), so hosts, users and database names never
/// reach the metrics output. Pools without one are summed under "other"; a name set with
/// NpgsqlDataSourceBuilder.Name is used as it is.
/// </summary>
internal sealed class DbPoolMetrics : IDisposable
{
    public const string MeterName = "Npgsql";
    public const string ConnectionCount = "db.client.connection.count";
    public const string ConnectionMax = "db.client.connection.max";
    const string PoolTag = "db.client.connection.pool.name";
    const string StateTag = "db.client.connection.state";

    public readonly record struct PoolValue(string Pool, string? State, long Value);

    readonly MeterListener _listener = new();
    readonly Lock _scrape = new();
    readonly Dictionary<string, string> _labels = [];
    Dictionary<(string Pool, string State), long> _counts = [];
    Dictionary<string, long> _max = [];

    public DbPoolMetrics()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == MeterName && instrument.Name is ConnectionCount or ConnectionMax)
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => OnMeasurement(instrument, value, tags));
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => OnMeasurement(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Observes every pool now. Scrapes are serialised; requests never wait on this.</summary>
    public (IReadOnlyList<PoolValue> Connections, IReadOnlyList<PoolValue> Max) Collect()
    {
        lock (_scrape)
        {
            _counts = [];
            _max = [];
            _listener.RecordObservableInstruments(); // calls OnMeasurement synchronously, on this thread
            return (
                [.. _counts.OrderBy(c => c.Key.Pool, StringComparer.Ordinal).ThenBy(c => c.Key.State, StringComparer.Ordinal)
                    .Select(c => new PoolValue(c.Key.Pool, c.Key.State, c.Value))],
                [.. _max.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => new PoolValue(m.Key, null, m.Value))]);
        }
    }

    void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? pool = null, state = null;
        foreach (var tag in tags)
        {
            if (tag.Key == PoolTag) pool = tag.Value as string;
            else if (tag.Key == StateTag) state = tag.Value as string;
        }
        var label = Label(pool);
        if (instrument.Name == ConnectionMax)
            _max[label] = _max.GetValueOrDefault(label) + value;
        else if (state is "idle" or "used")
            _counts[(label, state)] = _counts.GetValueOrDefault((label, state)) + value;
    }

    /// <summary>Only called under the scrape lock, so the cache needs no locking of its own.</summary>
    string Label(string? poolName)
    {
        if (poolName is null) return "other";
        if (_labels.TryGetValue(poolName, out var cached)) return cached;
        string label;
        try { label = new NpgsqlConnectionStringBuilder(poolName).ApplicationName is { Length: > 0 } app ? app : "other"; }
        // Not a connection string: a name given through NpgsqlDataSourceBuilder.Name, which is a label already.
        catch (ArgumentException) { label = poolName.Length <= 64 ? poolName : "other"; }
        if (_labels.Count < 1000) _labels[poolName] = label;
        return label;
    }

    public void Dispose() => _listener.Dispose();
}
