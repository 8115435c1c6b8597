namespace OdooOps.Backups.Storage;

/// <summary>
/// A stored object as a seekable stream over ranged GETs: reading goes on through one open response from the position
/// to the end; a seek backwards, or far ahead, asks for a new range at the first read after it. A zip reader jumps to
/// the directory at the end once, then reads the entries in order, so a whole download costs a handful of requests.
/// The zip library reads its central directory synchronously (nothing else): those reads wait on the request here.
/// </summary>
internal sealed class S3ReadStream(S3BackupStorage storage, string name, long length) : Stream
{
    /// <summary>A seek at most this far ahead is read through rather than answered with a new request.</summary>
    const long SkipBytes = 1024 * 1024;

    Stream? _body;
    long _bodyPosition;
    long _position;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => _position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => length + offset,
    };

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position >= length || buffer.Length == 0) return 0;
        await PositionBodyAsync(cancellationToken);
        int n;
        try { n = await _body!.ReadAsync(buffer[..(int)Math.Min(buffer.Length, length - _position)], cancellationToken); }
        catch (Exception e) when (e is IOException or HttpRequestException) { throw storage.Unavailable(name, e); }
        if (n == 0) throw storage.Unavailable(name, new EndOfStreamException($"the object ended at {_position} of {length} bytes"));
        _position += n;
        _bodyPosition += n;
        return n;
    }

    async Task PositionBodyAsync(CancellationToken ct)
    {
        if (_body is not null && _position >= _bodyPosition && _position - _bodyPosition <= SkipBytes)
        {
            var skip = new byte[Math.Min(64 * 1024, Math.Max(1, _position - _bodyPosition))];
            while (_bodyPosition < _position)
            {
                int n;
                try { n = await _body.ReadAsync(skip.AsMemory(0, (int)Math.Min(skip.Length, _position - _bodyPosition)), ct); }
                catch (Exception e) when (e is IOException or HttpRequestException) { throw storage.Unavailable(name, e); }
                if (n == 0) throw storage.Unavailable(name, new EndOfStreamException($"the object ended at {_bodyPosition} of {length} bytes"));
                _bodyPosition += n;
            }
            return;
        }
        if (_body is not null) await _body.DisposeAsync();
        _body = null;
        _body = await storage.OpenRangeAsync(name, _position, length, ct);
        _bodyPosition = _position;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _body?.Dispose();
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (_body is not null) await _body.DisposeAsync();
        await base.DisposeAsync();
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
