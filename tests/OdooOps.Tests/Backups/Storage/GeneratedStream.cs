using System.Security.Cryptography;

namespace OdooOps.Tests.Backups.Storage;

/// <summary>
/// <paramref name="length"/> bytes made up as they are read (a seeded pseudo-random sequence: it does not compress),
/// with their SHA-256 known at the end: a large upload that exists nowhere whole. Not seekable, and reading again
/// after its end is an error, so a reader that wants it twice is caught. An optional gate holds the reader at
/// <paramref name="pauseAt"/> bytes until the test lets it go.
/// </summary>
public sealed class GeneratedStream(long length, long pauseAt = -1, Func<Task>? atPause = null) : Stream
{
    readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    readonly Random _random = new(20240501);
    long _position;
    bool _ended;
    bool _paused;

    public string? Sha256 { get; private set; }
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_ended) throw new InvalidOperationException("The generated stream was read again after its end.");
        if (!_paused && pauseAt >= 0 && _position >= pauseAt && atPause is not null)
        {
            _paused = true;
            await atPause();
        }
        var limit = pauseAt >= 0 && !_paused ? Math.Min(length, pauseAt) : length;
        var n = (int)Math.Min(buffer.Length, limit - _position);
        if (n == 0 && _position == length)
        {
            _ended = true;
            Sha256 = Convert.ToHexStringLower(_sha.GetHashAndReset());
            return 0;
        }
        var span = buffer.Span[..n];
        _random.NextBytes(span);
        _sha.AppendData(span);
        _position += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _sha.Dispose();
        base.Dispose(disposing);
    }
}
