using System.Diagnostics;

namespace OdooOps.Runners.Agent.Execution;

/// <summary>A build log line with its sequence number; the server ignores a (build, seq) it already has.</summary>
internal sealed record LogLine(long Seq, string Stream, string Text, DateTimeOffset Timestamp);

internal sealed record LogBatcherOptions
{
    public int MaxBatchLines { get; init; } = 200;

    /// <summary>How long the first waiting line may wait for more lines before a batch goes out anyway.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan FirstRetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Applied to every line's text before it is numbered and sent (the build's <see cref="SecretMask"/>).</summary>
    public Func<string, string>? Redact { get; init; }

    /// <summary>The wait before re-sending, from the failure and the back-off's own wait (the runner waits out a server's Retry-After).</summary>
    public Func<Exception, TimeSpan, TimeSpan>? RetryDelay { get; init; }

    /// <summary>How long disposing waits for the last lines to be sent before giving them up.</summary>
    public TimeSpan DisposeTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Numbers one build's log lines and sends them in batches: when <see cref="LogBatcherOptions.MaxBatchLines"/> are
/// waiting or <see cref="LogBatcherOptions.MaxDelay"/> after the first waiting line, one send at a time, in order.
/// A failed send is retried with the very same lines (same seqs), with back-off, before any newer line goes out.
/// <see cref="Add(OutputLine)"/> may be called from several threads (stdout and stderr readers) at once.
/// </summary>
internal sealed class LogBatcher : IAsyncDisposable
{
    readonly Func<IReadOnlyList<LogLine>, CancellationToken, Task> _send;
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
    bool _closing;

    /// <param name="send">Sends one batch; throwing means "not sent, retry".</param>
    /// <param name="firstSeq">The first line's seq: 0, or one after the previous attempt's last line for a re-queued build.</param>
    public LogBatcher(Func<IReadOnlyList<LogLine>, CancellationToken, Task> send, long firstSeq = 0, LogBatcherOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstSeq);
        _send = send;
        _options = options ?? new LogBatcherOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxBatchLines, 1, nameof(options));
        _nextSeq = _sentUpTo = _flushUpTo = firstSeq;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>The seq the next added line gets.</summary>
    public long NextSeq { get { lock (_gate) return _nextSeq; } }

    public LogLine Add(OutputLine line) => Add(line.Stream, line.Text, line.Timestamp);

    public LogLine Add(string stream, string text, DateTimeOffset timestamp)
    {
        if (_options.Redact is { } redact) text = redact(text);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closing, this);
            var line = new LogLine(_nextSeq++, stream, text, timestamp);
            _waiting.Add((line, Stopwatch.GetTimestamp()));
            // The loop sleeps until the first line's deadline: wake it to start that clock, or when a batch is full.
            if (_waiting.Count == 1 || _waiting.Count == _options.MaxBatchLines) Wake();
            return line;
        }
    }

    /// <summary>Sends what is waiting now, without waiting for MaxDelay, and completes when every line added so far was sent.</summary>
    public Task FlushAsync(CancellationToken ct = default)
    {
        lock (_gate)
        {
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
            if (!await SendAsync(batch)) return;
            lock (_gate)
            {
                _sentUpTo = batch[^1].Seq + 1;
                _flushes.RemoveAll(f =>
                {
                    if (f.UpTo > _sentUpTo) return false;
                    f.Done.TrySetResult();
                    return true;
                });
            }
        }
    }

    /// <summary>Sends until it works; false only when disposing gave up.</summary>
    async Task<bool> SendAsync(LogLine[] batch)
    {
        var delay = _options.FirstRetryDelay;
        while (true)
        {
            var wait = delay;
            try
            {
                await _send(batch, _abort.Token);
                return true;
            }
            catch (Exception e) when (!_abort.IsCancellationRequested) // the server or network failed: retry below
            {
                if (_options.RetryDelay is { } asked) wait = asked(e, delay);
            }
            catch (Exception) { return false; }
            try { await Task.Delay(wait, _abort.Token); }
            catch (OperationCanceledException) { return false; }
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRetryDelay.Ticks));
        }
    }
}
