using System.Buffers;

namespace OdooOps.Metrics;

/// <summary>
/// A request body read into one pooled buffer, refusing more than a limit whether or not Content-Length was sent
/// (a chunked body is counted as it arrives). The buffer goes back to the pool on Dispose.
/// </summary>
internal sealed class RequestBody : IDisposable
{
    byte[] _buffer;

    public int Length { get; private set; }
    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

    RequestBody(byte[] buffer) => _buffer = buffer;

    /// <summary>The whole body, or null when it is longer than <paramref name="limit"/> bytes.</summary>
    public static async Task<RequestBody?> ReadAsync(HttpRequest request, int limit, CancellationToken ct)
    {
        if (request.ContentLength > limit) return null;
        var first = (int)Math.Min(request.ContentLength ?? 16 * 1024, limit) + 1; // +1: room to notice one byte too many
        var body = new RequestBody(ArrayPool<byte>.Shared.Rent(first));
        try
        {
            while (true)
            {
                if (body.Length == body._buffer.Length) body.Grow(limit);
                var read = await request.Body.ReadAsync(body._buffer.AsMemory(body.Length), ct);
                if (read == 0) return body;
                body.Length += read;
                if (body.Length > limit)
                {
                    body.Dispose();
                    return null;
                }
            }
        }
        catch
        {
            body.Dispose();
            throw;
        }
    }

    void Grow(int limit)
    {
        var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)_buffer.Length * 2, limit + 1L));
        _buffer.AsSpan(0, Length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    public void Dispose()
    {
        if (_buffer.Length == 0) return;
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        Length = 0;
    }
}
