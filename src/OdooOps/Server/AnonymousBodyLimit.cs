namespace OdooOps.Server;

/// <summary>
/// A caller nobody has authenticated (no session, no personal access token) may send at most
/// <see cref="MaxBytes"/> of body: sign-in, the token exchange and runner registration need far less, and a stranger
/// must not make the server read and parse megabytes. A declared Content-Length above it is refused at once with 413;
/// a chunked body is cut off when it passes the limit. Endpoints that check a machine token of their own (metrics
/// ingest, git webhooks, the runner protocol) say so with <see cref="OwnBodyLimit"/> and bound their bodies themselves.
/// </summary>
internal static class AnonymousBodyLimit
{
    public const int MaxBytes = 16 * 1024;

    /// <summary>Endpoint metadata: this endpoint authenticates its callers by a token of its own and sets its own body limit.</summary>
    public sealed record Own;

    public static TBuilder OwnBodyLimit<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new Own());

    /// <summary>After authentication (it needs to know who is calling), before anything reads a form or JSON.</summary>
    public static IApplicationBuilder UseAnonymousBodyLimit(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            if (context.User.Identity?.IsAuthenticated != true && context.GetEndpoint()?.Metadata.GetMetadata<Own>() is null)
            {
                if (context.Request.ContentLength > MaxBytes)
                {
                    await TooLargeAsync(context);
                    return;
                }
                context.Request.Body = new LimitedStream(context.Request.Body, MaxBytes);
            }
            await next(context);
        });

    public static Task TooLargeAsync(HttpContext context) =>
        ApiProblems.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "Payload too large",
            $"Without a session or a token, a request body may be at most {MaxBytes / 1024} KiB.");

    /// <summary>Reads through to the request body and throws 413 (as Kestrel's own limit does) once more than the limit came.</summary>
    sealed class LimitedStream(Stream inner, long limit) : Stream
    {
        long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        int Count(int n)
        {
            _read += n;
            if (_read > limit)
                throw new BadHttpRequestException($"The request body is larger than {limit} bytes.", StatusCodes.Status413PayloadTooLarge);
            return n;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
