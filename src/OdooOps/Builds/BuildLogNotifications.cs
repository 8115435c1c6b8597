using System.Collections.Concurrent;
using Npgsql;
using OdooOps.Database;

namespace OdooOps.Builds;

/// <summary>
/// One LISTEN ops_build_logs connection per server process, fanned out to the log streams waiting on a build.
/// Runners' functions notify after every log batch, step report and finish (payload: the build id). A stream
/// subscribes before it reads, so a notification arriving between its read and its wait is not lost. When the
/// connection drops, every subscriber is woken (it may have missed something) and the service reconnects; the
/// streams' own poll covers the gap meanwhile.
/// </summary>
public sealed class BuildLogNotifications(OpsDatabase db, ILogger<BuildLogNotifications> log) : BackgroundService
{
    public const string Channel = "ops_build_logs";
    public const string ApplicationName = "odooops build-log listener";

    readonly ConcurrentDictionary<Guid, ConcurrentDictionary<Subscription, byte>> _waiters = new();

    /// <summary>True while the LISTEN connection is up (doctor and tests look at it).</summary>
    public bool Listening => _listening;
    volatile bool _listening;

    /// <summary>Wakes on the next notification for <paramref name="buildId"/> after this call. Dispose to stop.</summary>
    public Subscription Subscribe(Guid buildId)
    {
        var subscription = new Subscription(this, buildId);
        _waiters.GetOrAdd(buildId, _ => new()).TryAdd(subscription, 0);
        return subscription;
    }

    void Unsubscribe(Subscription subscription)
    {
        if (!_waiters.TryGetValue(subscription.BuildId, out var set)) return;
        set.TryRemove(subscription, out _);
        // Removes the build's entry only if it is still this empty set, so a concurrent Subscribe is not dropped.
        if (set.IsEmpty) _waiters.TryRemove(new KeyValuePair<Guid, ConcurrentDictionary<Subscription, byte>>(subscription.BuildId, set));
    }

    /// <summary>How many streams wait on a build (a stream whose client left has let go).</summary>
    internal int SubscriberCount(Guid buildId) => _waiters.TryGetValue(buildId, out var set) ? set.Count : 0;

    /// <summary>Wakes the subscribers of one build, as a notification does.</summary>
    public void Signal(Guid buildId)
    {
        if (_waiters.TryGetValue(buildId, out var set))
            foreach (var s in set.Keys) s.Wake();
    }

    void SignalAll()
    {
        foreach (var set in _waiters.Values)
            foreach (var s in set.Keys) s.Wake();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                if (_listening)
                {
                    log.LogWarning("The build log listener lost its connection ({Message}); reconnecting.", e.Message);
                    delay = TimeSpan.FromSeconds(1);
                }
                else log.LogDebug(e, "The build log listener could not connect; retrying in {Delay}.", delay);
            }
            _listening = false;
            SignalAll();
            try { await Task.Delay(delay, stoppingToken); }
            catch (OperationCanceledException) { break; }
            delay = TimeSpan.FromSeconds(Math.Min(10, delay.TotalSeconds * 2));
        }
        _listening = false;
    }

    async Task ListenAsync(CancellationToken ct)
    {
        await using var conn = await db.Service.OpenConnectionAsync(ct);
        conn.Notification += (_, e) =>
        {
            if (Guid.TryParse(e.Payload, out var buildId)) Signal(buildId);
        };
        // Named, so an operator (or a test) finds it in pg_stat_activity.
        await using (var listen = new NpgsqlCommand($"set application_name = '{ApplicationName}'; listen {Channel}", conn))
            await listen.ExecuteNonQueryAsync(ct);
        _listening = true;
        SignalAll(); // anything sent while we were away
        while (true)
        {
            // An idle connection that died says nothing: a periodic round trip finds out.
            if (!await conn.WaitAsync(TimeSpan.FromSeconds(30), ct))
                await using (var ping = new NpgsqlCommand("select 1", conn))
                    await ping.ExecuteScalarAsync(ct);
        }
    }

    /// <summary>A wake-up flag for one reader of one build: set by notifications, cleared by <see cref="WaitAsync"/>.</summary>
    public sealed class Subscription(BuildLogNotifications owner, Guid buildId) : IDisposable
    {
        readonly SemaphoreSlim _signal = new(0, 1);

        public Guid BuildId { get; } = buildId;

        internal void Wake()
        {
            try { _signal.Release(); }
            catch (SemaphoreFullException) { } // already set: one wake-up covers any number of notifications
            catch (ObjectDisposedException) { }
        }

        /// <summary>True when woken by a notification, false when <paramref name="timeout"/> passed first.</summary>
        public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);

        public void Dispose()
        {
            owner.Unsubscribe(this);
            _signal.Dispose();
        }
    }
}
