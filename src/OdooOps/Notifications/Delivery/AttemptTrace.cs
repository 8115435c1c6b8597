using System.Diagnostics;
using System.Net;

namespace OdooOps.Notifications.Delivery;

/// <summary>
/// How far one attempt got, which decides what a failure without an answer means: before any of the body is written
/// (a webhook's request body, a mail once its recipients were accepted) the receiver cannot have it, so the attempt
/// may be tried again, or given back when the server stops; once it is being written, a timeout or a broken connection
/// leaves it unknown — never sent again by itself. Starting to write and the server's stop are decided atomically:
/// whichever comes first wins, so a stop never cuts off a body that started and never lets one start after it.
/// </summary>
internal sealed class AttemptTrace
{
    const int Waiting = 0, Writing = 1, Stopped = 2;
    int _state;

    /// <summary>Called just before the first byte of the body is written; throws when the server stopped first (nothing is written then).</summary>
    public void Writes()
    {
        if (Interlocked.CompareExchange(ref _state, Writing, Waiting) == Stopped)
            throw new OperationCanceledException("The server is stopping; nothing was written.");
    }

    /// <summary>The server stops: answers whether the attempt may be cut off (nothing written, and now nothing will be).</summary>
    public bool Stop() => Interlocked.CompareExchange(ref _state, Stopped, Waiting) != Writing;

    public bool Written => Volatile.Read(ref _state) == Writing;

    public bool WasStopped => Volatile.Read(ref _state) == Stopped;

    /// <summary>
    /// An attempt that ended without the receiver's answer: given back when the server stopped first, tried again when
    /// nothing of it left, unknown once its body was (being) written.
    /// </summary>
    public DeliveryResult NoAnswer(string reason, long started)
    {
        var took = Stopwatch.GetElapsedTime(started);
        if (WasStopped) return new(DeliveryOutcome.Released, null, "the server stopped before any of it was written", took);
        if (!Written) return new(DeliveryOutcome.Retry, null, reason, took);
        return new(DeliveryOutcome.Unknown, null,
            $"Sent, {reason}: not sent again by itself; redeliver it if the receiver did not get it.", took);
    }
}

/// <summary>A request body that tells its <see cref="AttemptTrace"/> before its first byte goes out.</summary>
internal sealed class TracedContent(byte[] body, AttemptTrace trace) : HttpContent
{
    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, default);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken ct)
    {
        trace.Writes();
        await stream.WriteAsync(body, ct);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = body.Length;
        return true;
    }
}
