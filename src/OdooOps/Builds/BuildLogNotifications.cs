using System.Collections.Concurrent;
using OdooOps.Database;

namespace OdooOps.Builds;

/// <summary>
/// Fans the database's <c>ops_build_logs</c> notifications (heard by <see cref="PgNotifications"/>, the process's one
/// LISTEN connection) out to the log streams waiting on a build. Runners' functions notify after every log batch, step
/// report and finish (payload: the build id). A stream subscribes before it reads, so a notification arriving between
/// its read and its wait is not lost. What no notification announced (a reconnect of the listener, a change made
/// without one) the <see cref="BuildLogWatcher"/> finds, with one query for all watched builds, and wakes those streams.
/// </summary>
public sealed class BuildLogNotifications
{
    readonly PgNotifications _listener;
    readonly ConcurrentDictionary<Guid, ConcurrentDictionary<Subscription, byte>> _waiters = new();

    public BuildLogNotifications(PgNotifications listener)
    {
        _listener = listener;
        listener.On(PgNotifications.BuildLogs, payload =>
        {
            if (payload is null) RequestRound(); // reconnected: anything may have been missed
            else if (Guid.TryParse(payload, out var buildId)) Signal(buildId);
        });
    }

    /// <summary>True while the LISTEN connection is up (doctor and tests look at it).</summary>
    public bool Listening => _listener.Listening;

    readonly Lock _gate = new(); // subscribe and unsubscribe exclude each other, so an emptied set never swallows a new subscriber

    /// <summary>Wakes on the next notification for <paramref name="buildId"/> after this call. Dispose to stop.</summary>
    public Subscription Subscribe(Guid buildId)
    {
        var subscription = new Subscription(this, buildId);
        lock (_gate) _waiters.GetOrAdd(buildId, _ => new()).TryAdd(subscription, 0);
        return subscription;
    }

    void Unsubscribe(Subscription subscription)
    {
        lock (_gate)
        {
            if (!_waiters.TryGetValue(subscription.BuildId, out var set)) return;
            set.TryRemove(subscription, out _);
            if (set.IsEmpty) _waiters.TryRemove(subscription.BuildId, out _);
        }
    }

    /// <summary>How many streams wait on a build (a stream whose client left has let go).</summary>
    internal int SubscriberCount(Guid buildId) => _waiters.TryGetValue(buildId, out var set) ? set.Count : 0;

    /// <summary>Wakes the subscribers of one build, as a notification does.</summary>
    public void Signal(Guid buildId)
    {
        if (_waiters.TryGetValue(buildId, out var set))
            foreach (var s in set.Keys) s.Wake();
    }

    long _streamReads, _watcherRounds;

    /// <summary>Reads made by this process's streams, and rounds of its watcher: tests compare the two.</summary>
    internal long StreamReads => Interlocked.Read(ref _streamReads);
    internal long WatcherRounds => Interlocked.Read(ref _watcherRounds);
    internal void CountStreamRead() => Interlocked.Increment(ref _streamReads);
    internal void CountWatcherRound() => Interlocked.Increment(ref _watcherRounds);

    /// <summary>The builds that have streams waiting now.</summary>
    internal IReadOnlyCollection<Guid> WatchedBuilds() => [.. _waiters.Keys];

    readonly SemaphoreSlim _roundNow = new(0, 1);

    /// <summary>Asks the watcher for a round now rather than at its next interval.</summary>
    internal void RequestRound()
    {
        try { _roundNow.Release(); }
        catch (SemaphoreFullException) { } // already asked
    }

    /// <summary>The watcher's wait: true when a round was asked for, false when <paramref name="timeout"/> passed.</summary>
    internal Task<bool> WaitForRoundRequestAsync(TimeSpan timeout, CancellationToken ct) => _roundNow.WaitAsync(timeout, ct);

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
