namespace OdooOps.Tests.Scheduler;

/// <summary>
/// A TimeProvider whose time moves only when a test says so: timers (Task.Delay, CancellationTokenSource timeouts)
/// fire when <see cref="Advance"/> passes their due time, so scheduler ticks happen without waiting for real time.
/// </summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    readonly Lock _gate = new();
    readonly List<ManualTimer> _timers = [];
    DateTimeOffset _now = start;
    TaskCompletionSource _timersChanged = NewSignal();

    public override DateTimeOffset GetUtcNow() { lock (_gate) return _now; }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    public void Advance(TimeSpan by) => SetTo(GetUtcNow() + by);

    /// <summary>
    /// Waits until exactly <paramref name="count"/> timers are armed, e.g. until every scheduler loop is parked on its
    /// next wait. A loop reads the clock and only then arms its timer, relative to that reading; moving the clock in
    /// between would arm the timer late by the move, so tests that drive running loops wait here before moving it.
    /// </summary>
    public async Task WaitForTimersAsync(int count, TimeSpan patience)
    {
        using var deadline = new CancellationTokenSource(patience);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_timers.Count == count) return;
                changed = _timersChanged.Task;
            }
            try { await changed.WaitAsync(deadline.Token); }
            catch (OperationCanceledException)
            {
                lock (_gate)
                    throw new Xunit.Sdk.XunitException($"{_timers.Count} timer(s) armed after {patience}, not {count}: due at " +
                        string.Join(", ", _timers.Select(t => t.DueAt.ToString("HH:mm:ss"))));
            }
        }
    }

    static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Called under the lock whenever the armed timers change: wakes <see cref="WaitForTimersAsync"/>.</summary>
    void TimersChanged()
    {
        _timersChanged.TrySetResult();
        _timersChanged = NewSignal();
    }

    /// <summary>Moves the clock to <paramref name="instant"/>, firing every timer that falls due, in due order.</summary>
    public void SetTo(DateTimeOffset instant)
    {
        while (true)
        {
            ManualTimer? due;
            lock (_gate)
            {
                due = _timers.Where(t => t.DueAt <= instant).MinBy(t => t.DueAt);
                _now = due is null ? instant : (due.DueAt > _now ? due.DueAt : _now);
                if (due is null) return;
                due.Rearm(_now);
            }
            due.Fire(); // outside the lock: the callback may create or change timers
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    sealed class ManualTimer(ManualClock clock, TimerCallback callback, object? state) : ITimer
    {
        TimeSpan _period = Timeout.InfiniteTimeSpan;
        public DateTimeOffset DueAt { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._gate)
            {
                clock._timers.Remove(this);
                _period = period;
                clock.TimersChanged();
                if (dueTime == Timeout.InfiniteTimeSpan) return true;
                DueAt = clock._now + dueTime;
                clock._timers.Add(this);
            }
            // A timer due now fires at once, as a real one would (soon after).
            if (dueTime <= TimeSpan.Zero) clock.SetTo(clock.GetUtcNow());
            return true;
        }

        /// <summary>Called under the clock's lock just before firing: a periodic timer re-arms, a one-shot one is removed.</summary>
        public void Rearm(DateTimeOffset now)
        {
            clock._timers.Remove(this);
            clock.TimersChanged();
            if (_period > TimeSpan.Zero && _period != Timeout.InfiniteTimeSpan)
            {
                DueAt = now + _period;
                clock._timers.Add(this);
            }
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (clock._gate)
                if (clock._timers.Remove(this)) clock.TimersChanged();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
