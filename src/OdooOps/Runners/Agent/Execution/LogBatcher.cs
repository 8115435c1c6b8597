using System.Diagnostics;
using System.Globalization;

namespace OdooOps.Runners.Agent.Execution;

/// <summary>A build log line with its sequence number; the server ignores a (build, seq) it already has.</summary>
internal sealed record LogLine(long Seq, string Stream, string Text, DateTimeOffset Timestamp);

/// <summary>
/// Numbers one build's log lines and sends them in batches: when <see cref="LogBatcherOptions.MaxBatchLines"/> are
/// waiting or <see cref="LogBatcherOptions.MaxDelay"/> after the first waiting line, one send at a time, in order.
/// A failed send is retried with the very same lines (same seqs), with back-off, before any newer line goes out.
/// <see cref="Add(OutputLine)"/> may be called from several threads (stdout and stderr readers) at once.
///
/// Bounded: while the server is slow or away, at most <see cref="LogBatcherOptions.MaxHeldLines"/> lines and
/// <see cref="LogBatcherOptions.MaxHeldBytes"/> are held (waiting or being sent); later lines are dropped (no seq) and
/// counted, and once output is taken again (half the queue free) a system line says how many went missing there.
/// The runner's own system lines may use an eighth more, so they are the last to go. Once the server answers that the
/// build's log is cut, nothing more is sent: waiting and later lines are let go.
/// </summary>
internal sealed class LogBatcher : IAsyncDisposable
{
    readonly Func<IReadOnlyList<LogLine>, CancellationToken, Task<bool>> _send;
    readonly LogBatcherOptions _options;
    readonly Lock _gate = new();
    readonly List<(LogLine Line, long ArrivedAt)> _waiting = [];
    readonly List<(long UpTo, TaskCompletionSource Done)> _flushes = [];
    readonly SemaphoreSlim _wake = new(0, 1);
    readonly CancellationTokenSource _abort = new();
    readonly Task _loop;
    long _nextSeq;
    long _sentUpTo; // every seq below this was sent
    long _flushUpTo; // seqs below this go out without waiting for MaxDelay
    long _heldLines, _heldBytes; // waiting and being sent
    long _droppedSinceNotice, _droppedTotal;
    bool _closing, _cut;

    /// <param name="send">Sends one batch; answers true when the server keeps no more lines (the log is cut); throwing means "not sent, retry".</param>
    /// <param name="firstSeq">The first line's seq: 0, or one after the previous attempt's last line for a re-queued build.</param>
    public LogBatcher(Func<IReadOnlyList<LogLine>, CancellationToken, Task<bool>> send, long firstSeq = 0, LogBatcherOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstSeq);
        _send = send;
        _options = options ?? new LogBatcherOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxBatchLines, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxHeldLines, 2, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxHeldBytes, 1, nameof(options));
        _nextSeq = _sentUpTo = _flushUpTo = firstSeq;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>A batcher whose server never cuts the log.</summary>
    public LogBatcher(Func<IReadOnlyList<LogLine>, CancellationToken, Task> send, long firstSeq = 0, LogBatcherOptions? options = null)
        : this(async (batch, ct) => { await send(batch, ct); return false; }, firstSeq, options) { }

    /// <summary>The seq the next added line gets.</summary>
    public long NextSeq { get { lock (_gate) return _nextSeq; } }

    public long HeldLines { get { lock (_gate) return _heldLines; } }
    public long HeldBytes { get { lock (_gate) return _heldBytes; } }
    public long DroppedLines { get { lock (_gate) return _droppedTotal; } }

    /// <summary>The server said the log is cut: nothing more is sent.</summary>
    public bool IsCut { get { lock (_gate) return _cut; } }

    public LogLine? Add(OutputLine line) => Add(line.Stream, line.Text, line.Timestamp);

    /// <summary>The line as numbered, or null when it was dropped (the queue is full, or the server cut the log).</summary>
    public LogLine? Add(string stream, string text, DateTimeOffset timestamp)
    {
        if (_options.Redact is { } redact) text = redact(text);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closing, this);
            if (_cut)
            {
                _options.Meter?.SkippedAfterCut(1);
                return null;
            }
            var size = Size(text);
            if (!Admits(stream, size))
            {
                _droppedSinceNotice++;
                _droppedTotal++;
                _options.Meter?.Dropped();
                return null;
            }
            if (_droppedSinceNotice > 0) AddNotice(timestamp); // where the lines went missing
            return Enqueue(stream, text, timestamp, size);
        }
    }

    static long Size(string text) => (long)text.Length * sizeof(char);

    const long NoticeSize = 512;

    bool Admits(string stream, long size)
    {
        if (_heldLines == 0) return true; // one line always fits, whatever its size
        long lines = _options.MaxHeldLines, bytes = _options.MaxHeldBytes;
        if (stream == LogStream.System) (lines, bytes) = (lines + lines / 8, bytes + bytes / 8);
        else if (_droppedSinceNotice > 0) (lines, bytes) = (lines / 2, bytes / 2); // no notice for every line that fits again
        var notice = _droppedSinceNotice > 0 ? 1 : 0;
        return _heldLines + 1 + notice <= lines && _heldBytes + size + notice * NoticeSize <= bytes;
    }

    void AddNotice(DateTimeOffset timestamp)
    {
        var text = string.Create(CultureInfo.InvariantCulture,
            $"{_droppedSinceNotice:N0} line(s) of output were dropped here: the server took the log more slowly than the build wrote it " +
            $"(a runner holds at most {_options.MaxHeldLines:N0} lines or {_options.MaxHeldBytes / 2:N0} characters of a build's log).");
        _droppedSinceNotice = 0;
        Enqueue(LogStream.System, text, timestamp, Size(text));
    }

    LogLine Enqueue(string stream, string text, DateTimeOffset timestamp, long size)
    {
        var line = new LogLine(_nextSeq++, stream, text, timestamp);
        _waiting.Add((line, Stopwatch.GetTimestamp()));
        _heldLines++;
        _heldBytes += size;
        _options.Meter?.Held(_heldLines, _heldBytes);
        // The loop sleeps until the first line's deadline: wake it to start that clock, or when a batch is full.
        if (_waiting.Count == 1 || _waiting.Count == _options.MaxBatchLines) Wake();
        return line;
    }

    /// <summary>Sends what is waiting now, without waiting for MaxDelay, and completes when every line added so far was sent.</summary>
    public Task FlushAsync(CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (_droppedSinceNotice > 0 && !_cut && !_closing) AddNotice(DateTimeOffset.UtcNow);
            if (_sentUpTo >= _nextSeq) return Task.CompletedTask;
            ObjectDisposedException.ThrowIf(_abort.IsCancellationRequested, this);
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _flushes.Add((_nextSeq, done));
            _flushUpTo = _nextSeq;
            Wake();
            return done.Task.WaitAsync(ct);
        }
    }

    /// <summary>Sends the remaining lines (retrying for up to DisposeTimeout), then stops; later lines are refused.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (!_closing)
            {
                if (_droppedSinceNotice > 0 && !_cut) AddNotice(DateTimeOffset.UtcNow);
                _closing = true;
                Wake();
            }
        }
        if (await Task.WhenAny(_loop, Task.Delay(_options.DisposeTimeout)) != _loop) await _abort.CancelAsync();
        await _loop;
        lock (_gate)
        {
            foreach (var (_, done) in _flushes) done.TrySetException(new ObjectDisposedException(nameof(LogBatcher), "The log batcher was disposed before these lines were sent."));
            _flushes.Clear();
        }
        _wake.Dispose();
        _abort.Dispose();
    }

    void Wake()
    {
        if (_wake.CurrentCount == 0) _wake.Release(); // under _gate: nobody else releases in between
    }

    async Task RunAsync()
    {
        while (true)
        {
            LogLine[]? batch = null;
            var wait = Timeout.InfiniteTimeSpan;
            lock (_gate)
            {
                if (_waiting.Count == 0)
                {
                    if (_closing) return;
                }
                else
                {
                    var due = _closing || _waiting.Count >= _options.MaxBatchLines || _flushUpTo > _waiting[0].Line.Seq
                        ? TimeSpan.Zero
                        : _options.MaxDelay - Stopwatch.GetElapsedTime(_waiting[0].ArrivedAt);
                    if (due <= TimeSpan.Zero)
                    {
                        var count = Math.Min(_waiting.Count, _options.MaxBatchLines);
                        batch = new LogLine[count];
                        for (var i = 0; i < count; i++) batch[i] = _waiting[i].Line;
                        _waiting.RemoveRange(0, count);
                    }
                    else wait = due;
                }
            }

            if (batch is null)
            {
                try { await _wake.WaitAsync(wait, _abort.Token); }
                catch (OperationCanceledException) { return; }
                continue;
            }
            var outcome = await SendAsync(batch);
            if (outcome == Outcome.GaveUp) return;
            lock (_gate)
            {
                _sentUpTo = batch[^1].Seq + 1;
                _heldLines -= batch.Length;
                foreach (var line in batch) _heldBytes -= Size(line.Text);
                if (outcome == Outcome.Cut && !_cut) LetGo();
                _flushes.RemoveAll(f =>
                {
                    if (f.UpTo > _sentUpTo) return false;
                    f.Done.TrySetResult();
                    return true;
                });
            }
        }
    }

    /// <summary>The server keeps no more lines of this log: what waits is let go, and so is every later line.</summary>
    void LetGo()
    {
        _cut = true;
        _options.Meter?.Cut();
        _options.Meter?.SkippedAfterCut(_waiting.Count);
        _waiting.Clear();
        (_heldLines, _heldBytes, _droppedSinceNotice) = (0, 0, 0);
        _sentUpTo = _nextSeq;
    }

    enum Outcome { Sent, Cut, GaveUp }

    /// <summary>Sends until it works; GaveUp only when disposing gave up.</summary>
    async Task<Outcome> SendAsync(LogLine[] batch)
    {
        var delay = _options.FirstRetryDelay;
        while (true)
        {
            var wait = delay;
            try
            {
                return await _send(batch, _abort.Token) ? Outcome.Cut : Outcome.Sent;
            }
            catch (Exception e) when (!_abort.IsCancellationRequested) // the server or network failed: retry below
            {
                if (_options.RetryDelay is { } asked) wait = asked(e, delay);
            }
            catch (Exception) { return Outcome.GaveUp; }
            try { await Task.Delay(wait, _abort.Token); }
            catch (OperationCanceledException) { return Outcome.GaveUp; }
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRetryDelay.Ticks));
        }
    }
}
