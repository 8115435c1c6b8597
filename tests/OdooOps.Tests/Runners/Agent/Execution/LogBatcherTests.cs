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
}
