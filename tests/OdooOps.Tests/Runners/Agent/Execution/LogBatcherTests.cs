using System.Collections.Concurrent;
using System.Diagnostics;
using OdooOps.Runners.Agent.Execution;

namespace OdooOps.Tests.Runners.Agent.Execution;

/// <summary>Batching by size and time, sequence numbers, retries with the same seqs, flush and dispose.</summary>
public sealed class LogBatcherTests
{
    /// <summary>A sender that records each attempt, can fail the first few, and checks only one send is in flight.</summary>
    sealed class RecordingSender(int failFirst = 0, TimeSpan? latency = null)
    {
        readonly Stopwatch _clock = Stopwatch.StartNew();
        int _inFlight;
        public ConcurrentQueue<(long[] Seqs, bool Ok, TimeSpan At)> Attempts { get; } = new();
        public int MaxInFlight { get; private set; }
        public TaskCompletionSource FirstAttempt { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task SendAsync(IReadOnlyList<LogLine> batch, CancellationToken ct)
        {
            var inFlight = Interlocked.Increment(ref _inFlight);
            MaxInFlight = Math.Max(MaxInFlight, inFlight);
            try
            {
                await Task.Delay(latency ?? TimeSpan.FromMilliseconds(1), ct);
                var ok = Attempts.Count >= failFirst;
                Attempts.Enqueue((batch.Select(l => l.Seq).ToArray(), ok, _clock.Elapsed));
                FirstAttempt.TrySetResult();
                if (!ok) throw new HttpRequestException("server unavailable");
            }
            finally { Interlocked.Decrement(ref _inFlight); }
        }

        public List<long[]> Sent => Attempts.Where(a => a.Ok).Select(a => a.Seqs).ToList();
        public List<long> SentSeqs => Sent.SelectMany(s => s).ToList();
    }

    static readonly LogBatcherOptions NoTimer = new() { MaxDelay = TimeSpan.FromSeconds(30) };

    static void AddLines(LogBatcher batcher, int count, string stream = LogStream.Stdout)
    {
        for (var i = 0; i < count; i++) batcher.Add(stream, $"{stream} {i}", DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task A_full_batch_goes_out_at_once_and_the_rest_on_flush()
    {
        var sender = new RecordingSender();
        await using var batcher = new LogBatcher(sender.SendAsync, options: NoTimer);
        AddLines(batcher, 450);
        var clock = Stopwatch.StartNew();
        while (sender.Sent.Count < 2 && clock.Elapsed < TimeSpan.FromSeconds(5)) await Task.Delay(10);
        await Task.Delay(100);
        Assert.Equal([200, 200], sender.Sent.Select(b => b.Length));
        await batcher.FlushAsync();
        Assert.Equal([200, 200, 50], sender.Sent.Select(b => b.Length));
        Assert.Equal(Enumerable.Range(0, 450).Select(i => (long)i), sender.SentSeqs);
    }

    [Fact]
    public async Task A_few_lines_go_out_after_the_delay()
    {
        var sender = new RecordingSender();
        await using var batcher = new LogBatcher(sender.SendAsync);
        var clock = Stopwatch.StartNew();
        AddLines(batcher, 3);
        while (sender.Sent.Count == 0 && clock.Elapsed < TimeSpan.FromSeconds(5)) await Task.Delay(10);
        var sentAfter = clock.Elapsed;
        Assert.Equal([[0, 1, 2]], sender.Sent);
        Assert.InRange(sentAfter, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Sequence_numbers_continue_from_the_given_start()
    {
        var sender = new RecordingSender();
        await using var batcher = new LogBatcher(sender.SendAsync, firstSeq: 1000, NoTimer);
        var first = batcher.Add(new OutputLine(LogStream.Stderr, "again", DateTimeOffset.UnixEpoch));
        Assert.Equal(new LogLine(1000, LogStream.Stderr, "again", DateTimeOffset.UnixEpoch), first);
        AddLines(batcher, 2);
        Assert.Equal(1003, batcher.NextSeq);
        await batcher.FlushAsync();
        Assert.Equal([1000, 1001, 1002], sender.SentSeqs);
    }

    [Fact]
    public async Task A_failed_batch_is_retried_with_the_same_seqs_before_newer_lines()
    {
        var sender = new RecordingSender(failFirst: 2);
        await using var batcher = new LogBatcher(sender.SendAsync, options: new LogBatcherOptions
        {
            MaxDelay = TimeSpan.FromMilliseconds(20), FirstRetryDelay = TimeSpan.FromMilliseconds(100),
        });
        AddLines(batcher, 5);
        await sender.FirstAttempt.Task;
        AddLines(batcher, 5, LogStream.Stderr); // arrive while the first batch is failing
        await batcher.FlushAsync();

        var attempts = sender.Attempts.ToList();
        Assert.Equal([false, false, true, true], attempts.Select(a => a.Ok));
        Assert.All(attempts.Take(3), a => Assert.Equal([0, 1, 2, 3, 4], a.Seqs));
        Assert.Equal([5, 6, 7, 8, 9], attempts[3].Seqs);
        // Back-off: 100 ms, then 200 ms.
        Assert.True(attempts[2].At - attempts[0].At >= TimeSpan.FromMilliseconds(280), $"retried after {attempts[2].At - attempts[0].At}");
    }

    [Fact]
    public async Task Disposing_sends_what_is_waiting_and_refuses_more()
    {
        var sender = new RecordingSender();
        var batcher = new LogBatcher(sender.SendAsync, options: NoTimer);
        AddLines(batcher, 7);
        var clock = Stopwatch.StartNew();
        await batcher.DisposeAsync();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2));
        Assert.Equal(Enumerable.Range(0, 7).Select(i => (long)i), sender.SentSeqs);
        Assert.Throws<ObjectDisposedException>(() => batcher.Add(LogStream.Stdout, "late", DateTimeOffset.UtcNow));
    }

    [Fact]
    public async Task Disposing_gives_up_on_a_server_that_never_answers()
    {
        var sender = new RecordingSender(failFirst: int.MaxValue);
        var batcher = new LogBatcher(sender.SendAsync, options: new LogBatcherOptions
        {
            FirstRetryDelay = TimeSpan.FromMilliseconds(20), DisposeTimeout = TimeSpan.FromMilliseconds(300),
        });
        AddLines(batcher, 3);
        var flush = batcher.FlushAsync();
        var clock = Stopwatch.StartNew();
        await batcher.DisposeAsync();
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(3));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => flush);
        Assert.True(sender.Attempts.Count >= 2);
        Assert.Empty(sender.Sent);
    }

    [Fact]
    public async Task Lines_from_two_threads_get_unique_ordered_seqs_and_one_send_at_a_time()
    {
        var sender = new RecordingSender(latency: TimeSpan.FromMilliseconds(2));
        await using var batcher = new LogBatcher(sender.SendAsync, options: new LogBatcherOptions { MaxBatchLines = 50, MaxDelay = TimeSpan.FromMilliseconds(5) });
        var seqs = new ConcurrentDictionary<string, List<long>>();
        await Task.WhenAll(new[] { LogStream.Stdout, LogStream.Stderr }.Select(stream => Task.Run(() =>
        {
            var mine = seqs.GetOrAdd(stream, _ => []);
            for (var i = 0; i < 5000; i++) mine.Add(batcher.Add(stream, $"{i}", DateTimeOffset.UtcNow)!.Seq);
        })));
        await batcher.FlushAsync();
        Assert.Equal(Enumerable.Range(0, 10000).Select(i => (long)i), sender.SentSeqs);
        Assert.All(seqs.Values, s => Assert.Equal(s.Order(), s)); // each reader's lines keep their order
        Assert.Equal(1, sender.MaxInFlight);
    }

    [Fact]
    public async Task A_steps_output_reaches_the_sender_in_order()
    {
        var sender = new RecordingSender();
        var received = new ConcurrentQueue<LogLine>();
        var dir = ProcessProbe.NewTempDir("odooops-batch");
        try
        {
            await using var batcher = new LogBatcher(async (batch, ct) =>
            {
                await sender.SendAsync(batch, ct);
                foreach (var line in batch) received.Enqueue(line);
            });
            var result = await StepProcess.RunAsync(new StepCommand("seq 1 1000\necho warning >&2", dir), line => batcher.Add(line));
            Assert.True(result.Succeeded);
            await batcher.FlushAsync();
        }
        finally { Directory.Delete(dir, recursive: true); }
        Assert.Equal(Enumerable.Range(0, 1001).Select(i => (long)i), received.Select(l => l.Seq));
        Assert.Equal(Enumerable.Range(1, 1000).Select(i => $"{i}"), received.Where(l => l.Stream == LogStream.Stdout).Select(l => l.Text));
        Assert.Equal(["warning"], received.Where(l => l.Stream == LogStream.Stderr).Select(l => l.Text));
    }

    /// <summary>A 16 KiB line, as a step printing in a tight loop writes them (one instance: the test measures the queue, not its own garbage).</summary>
    static readonly string Wide = new('x', 16 * 1024);

    [Fact]
    public async Task A_server_that_does_not_answer_leaves_the_queue_at_its_bound_and_the_dropped_lines_are_counted_and_noted()
    {
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sent = new ConcurrentQueue<LogLine>();
        var meter = new LogQueueMeter();
        var options = new LogBatcherOptions { MaxDelay = TimeSpan.FromMilliseconds(1), Meter = meter };
        await using var batcher = new LogBatcher(async (batch, ct) =>
        {
            await answer.Task.WaitAsync(ct); // a server that takes the lines only when the test says so
            foreach (var line in batch) sent.Enqueue(line);
        }, options: options);

        const int Written = 20_000; // 320 MiB of output: far past the bound
        long? heldAtHalf = null;
        for (var i = 0; i < Written; i++)
        {
            batcher.Add(LogStream.Stdout, Wide, DateTimeOffset.UtcNow);
            Assert.True(batcher.HeldLines <= options.MaxHeldLines && batcher.HeldBytes <= options.MaxHeldBytes,
                $"after line {i}: {batcher.HeldLines} lines, {batcher.HeldBytes} bytes held");
            if (i == Written / 2) heldAtHalf = batcher.HeldBytes;
        }
        // Flat: the queue held as much after half the output as after all of it, and each dropped line was counted.
        Assert.Equal(heldAtHalf, batcher.HeldBytes);
        Assert.Equal(options.MaxHeldBytes / (Wide.Length * 2), batcher.HeldLines);
        Assert.Equal(Written - batcher.HeldLines, batcher.DroppedLines);
        Assert.Equal((batcher.DroppedLines, batcher.HeldLines), (meter.DroppedLines, meter.PeakHeldLines));
        Assert.True(meter.PeakHeldBytes <= options.MaxHeldBytes);

        answer.SetResult();
        batcher.Add(LogStream.System, "Result: success", DateTimeOffset.UtcNow);
        await batcher.FlushAsync();
        var lines = sent.ToList();
        Assert.Equal(Enumerable.Range(0, lines.Count).Select(i => (long)i), lines.Select(l => l.Seq)); // dropped lines take no seq
        var notice = lines[^2];
        Assert.Equal(LogStream.System, notice.Stream);
        Assert.StartsWith($"{Written - (lines.Count - 2):N0} line(s) of output were dropped here", notice.Text);
        Assert.Equal("Result: success", lines[^1].Text);
    }

    [Fact]
    public async Task Output_is_taken_again_once_half_the_queue_is_free_and_the_runners_own_lines_have_a_reserve()
    {
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sent = new ConcurrentQueue<LogLine>();
        var options = new LogBatcherOptions { MaxDelay = TimeSpan.FromSeconds(30), MaxBatchLines = 10, MaxHeldLines = 40 };
        await using var batcher = new LogBatcher(async (batch, ct) =>
        {
            await answer.Task.WaitAsync(ct);
            foreach (var line in batch) sent.Enqueue(line);
        }, options: options);

        AddLines(batcher, 45); // 40 held (the first 10 being sent), 5 dropped
        Assert.Equal((40, 5), (batcher.HeldLines, batcher.DroppedLines));
        Assert.NotNull(batcher.Add(LogStream.System, "Step 2 \"tests\"", DateTimeOffset.UtcNow)); // within the reserve, after the notice
        Assert.Equal(42, batcher.HeldLines);
        Assert.Null(batcher.Add(LogStream.Stdout, "still full", DateTimeOffset.UtcNow));

        answer.SetResult();
        await batcher.FlushAsync();
        Assert.Equal(0, batcher.HeldLines);
        Assert.NotNull(batcher.Add(LogStream.Stdout, "taken again", DateTimeOffset.UtcNow));
        await batcher.FlushAsync();
        var texts = sent.Select(l => l.Text).ToList();
        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"stdout {i}"), texts.Take(40));
        Assert.StartsWith("5 line(s) of output were dropped here", texts[40]);
        Assert.Equal("Step 2 \"tests\"", texts[41]);
        Assert.StartsWith("1 line(s) of output were dropped here", texts[42]);
        Assert.Equal("taken again", texts[43]);
    }

    [Fact]
    public async Task Once_the_server_says_the_log_is_cut_nothing_more_is_sent()
    {
        var calls = 0;
        var meter = new LogQueueMeter();
        await using var batcher = new LogBatcher(async (batch, ct) =>
        {
            await Task.Yield();
            return Interlocked.Increment(ref calls) == 2; // the server's answer to the second batch: cut
        }, options: NoTimer with { MaxBatchLines = 10, Meter = meter });

        AddLines(batcher, 25);
        await batcher.FlushAsync(); // the third batch was let go with the cut: nothing waits any more
        Assert.True(batcher.IsCut);
        Assert.Equal(2, calls);
        Assert.Null(batcher.Add(LogStream.Stdout, "after the cut", DateTimeOffset.UtcNow));
        await batcher.FlushAsync();
        Assert.Equal((0L, 2), (batcher.HeldLines, calls));
        Assert.Equal((1L, 6L), (meter.Cuts, meter.LinesAfterCut)); // 5 waiting when the cut came, 1 added after
    }
}
