namespace OdooOps.Runners.Agent.Execution;

/// <summary>
/// What the log batchers that share it held and dropped: the most lines and bytes one batcher held at once (waiting or
/// being sent), the lines dropped because the queue was full, and the lines not sent because the server had cut the
/// log. Thread-safe; a runner (or a test) reads it to see that a slow server never made a build's log grow in memory.
/// </summary>
public sealed class LogQueueMeter
{
    long _peakLines, _peakBytes, _dropped, _afterCut, _cuts;

    public long PeakHeldLines => Interlocked.Read(ref _peakLines);
    public long PeakHeldBytes => Interlocked.Read(ref _peakBytes);
    public long DroppedLines => Interlocked.Read(ref _dropped);
    public long LinesAfterCut => Interlocked.Read(ref _afterCut);

    /// <summary>How many batchers learnt from the server that their log was cut.</summary>
    public long Cuts => Interlocked.Read(ref _cuts);

    internal void Held(long lines, long bytes)
    {
        Raise(ref _peakLines, lines);
        Raise(ref _peakBytes, bytes);
    }

    internal void Dropped() => Interlocked.Increment(ref _dropped);
    internal void SkippedAfterCut(long lines) => Interlocked.Add(ref _afterCut, lines);
    internal void Cut() => Interlocked.Increment(ref _cuts);

    static void Raise(ref long peak, long value)
    {
        var seen = Interlocked.Read(ref peak);
        while (value > seen)
        {
            var was = Interlocked.CompareExchange(ref peak, value, seen);
            if (was == seen) return;
            seen = was;
        }
    }
}
