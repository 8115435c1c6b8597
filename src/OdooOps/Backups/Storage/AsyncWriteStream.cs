namespace OdooOps.Backups.Storage;

/// <summary>
/// Between a zip writer and an HTTP response, which takes asynchronous writes only: the zip library still writes a
/// little synchronously (an entry's last compressed bytes when it closes). Those writes are kept here and sent ahead
/// of the next asynchronous write or flush; they are small, and a writer that wrote much synchronously is stopped
/// rather than held in memory.
/// </summary>
internal sealed class AsyncWriteStream(Stream inner) : Stream
{
    const int MaxPending = 64 * 1024 * 1024;
    readonly MemoryStream _pending = new();
    long _written;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _written; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_pending.Length + buffer.Length > MaxPending)
            throw new InvalidOperationException("More than 64 MiB written synchronously to an HTTP response.");
        _pending.Write(buffer);
        _written += buffer.Length;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await DrainAsync(cancellationToken);
        await inner.WriteAsync(buffer, cancellationToken);
        _written += buffer.Length;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await DrainAsync(cancellationToken);
        await inner.FlushAsync(cancellationToken);
    }

    async Task DrainAsync(CancellationToken ct)
    {
        if (_pending.Length == 0) return;
        await inner.WriteAsync(_pending.GetBuffer().AsMemory(0, (int)_pending.Length), ct);
        _pending.SetLength(0);
    }

    public override void Flush() { } // kept until the next asynchronous write or flush
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
