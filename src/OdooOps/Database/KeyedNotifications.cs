using System.Collections.Concurrent;

namespace OdooOps.Database;

/// <summary>
/// Fans one NOTIFY channel's notifications (heard by <see cref="PgNotifications"/>, the process's one LISTEN connection),
/// whose payload is the id of what changed (a build, an instance), out to the live streams waiting on that id. A stream
/// subscribes before it reads, so a notification arriving between its read and its wait is not lost. What no
/// notification announced (a reconnect of the listener, a change made without one) the feature's
/// <see cref="MarkWatcher"/> finds, with one query for all watched ids, and wakes those streams.
/// </summary>
public abstract class KeyedNotifications
{
    readonly PgNotifications _listener;
    readonly ConcurrentDictionary<Guid, ConcurrentDictionary<Subscription, byte>> _waiters = new();

    protected KeyedNotifications(PgNotifications listener, string channel)
    {
        _listener = listener;
        listener.On(channel, payload =>
        {
            if (payload is null) RequestRound(); // reconnected: anything may have been missed
            else if (Guid.TryParse(payload, out var id)) Signal(id);
        });
    }

    /// <summary>True while the LISTEN connection is up (doctor and tests look at it).</summary>
    public bool Listening => _listener.Listening;

    readonly Lock _gate = new(); // subscribe and unsubscribe exclude each other, so an emptied set never swallows a new subscriber

    /// <summary>Wakes on the next notification for <paramref name="id"/> after this call. Dispose to stop.</summary>
    public Subscription Subscribe(Guid id)
    {
        var subscription = new Subscription(this, id);
        lock (_gate) _waiters.GetOrAdd(id, _ => new()).TryAdd(subscription, 0);
        return subscription;
    }

    void Unsubscribe(Subscription subscription)
    {
        lock (_gate)
        {
            if (!_waiters.TryGetValue(subscription.Key, out var set)) return;
            set.TryRemove(subscription, out _);
            if (set.IsEmpty) _waiters.TryRemove(subscription.Key, out _);
        }
    }

    /// <summary>How many streams wait on an id (a stream whose client left has let go).</summary>
    internal int SubscriberCount(Guid id) => _waiters.TryGetValue(id, out var set) ? set.Count : 0;

    /// <summary>Wakes the subscribers of one id, as a notification does.</summary>
    public void Signal(Guid id)
    {
        if (_waiters.TryGetValue(id, out var set))
            foreach (var s in set.Keys) s.Wake();
    }

    long _streamReads, _watcherRounds;

    /// <summary>Reads made by this process's streams, and rounds of its watcher: tests compare the two.</summary>
    internal long StreamReads => Interlocked.Read(ref _streamReads);
    internal long WatcherRounds => Interlocked.Read(ref _watcherRounds);
    internal void CountStreamRead() => Interlocked.Increment(ref _streamReads);
    internal void CountWatcherRound() => Interlocked.Increment(ref _watcherRounds);

    /// <summary>The ids that have streams waiting now.</summary>
    internal IReadOnlyCollection<Guid> Watched() => [.. _waiters.Keys];

    readonly SemaphoreSlim _roundNow = new(0, 1);

    /// <summary>Asks the watcher for a round now rather than at its next interval.</summary>
    internal void RequestRound()
    {
        try { _roundNow.Release(); }
        catch (SemaphoreFullException) { } // already asked
    }

    /// <summary>The watcher's wait: true when a round was asked for, false when <paramref name="timeout"/> passed.</summary>
    internal Task<bool> WaitForRoundRequestAsync(TimeSpan timeout, CancellationToken ct) => _roundNow.WaitAsync(timeout, ct);

    /// <summary>A wake-up flag for one reader of one id: set by notifications, cleared by <see cref="WaitAsync"/>.</summary>
    public sealed class Subscription(KeyedNotifications owner, Guid key) : IDisposable
    {
        readonly SemaphoreSlim _signal = new(0, 1);

        public Guid Key { get; } = key;

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
