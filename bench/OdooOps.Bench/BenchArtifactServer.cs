using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OdooOps.Backups.Storage;
using OdooOps.Runners.Protocol;

namespace OdooOps.Bench;

/// <summary>
/// Where the staging bench's runner downloads production's backup from: Kestrel on loopback answering the runner
/// protocol's artifact GET as serve does (the folder storage's file as TypedResults.Stream, no minimum data rate),
/// without serve's token and lease checks (two queries). <see cref="Handler"/> notes when the runner's download read
/// the last byte, so the download is timed inside the runner's own call.
/// </summary>
sealed class BenchArtifactServer : IAsyncDisposable
{
    readonly WebApplication _app;

    BenchArtifactServer(WebApplication app, Uri url) => (_app, Url) = (app, url);

    public Uri Url { get; }

    public static async Task<BenchArtifactServer> StartAsync(BackupStorage storage, Func<Guid, string> keyOf)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet($"{RunnerProtocol.Base}/backups/{{backupId:guid}}/artifact", async (Guid backupId, HttpContext http, CancellationToken ct) =>
        {
            var stream = await storage.OpenReadAsync(keyOf(backupId), ct);
            if (http.Features.Get<IHttpMinResponseDataRateFeature>() is { } rate) rate.MinDataRate = null;
            return TypedResults.Stream(stream, "application/zip");
        });
        await app.StartAsync();
        return new BenchArtifactServer(app, new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()));
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    /// <summary>The runner client's handler: marks, on <see cref="Clock"/>, when a response body was read to its end.</summary>
    public sealed class Handler(Stopwatch clock) : DelegatingHandler(new SocketsHttpHandler())
    {
        public TimeSpan? Finished { get; set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            var response = await base.SendAsync(request, ct);
            var body = new EndMark(await response.Content.ReadAsStreamAsync(ct), () => Finished ??= clock.Elapsed);
            var content = new StreamContent(body);
            foreach (var (name, values) in response.Content.Headers) content.Headers.TryAddWithoutValidation(name, values);
            response.Content = content;
            return response;
        }
    }

    sealed class EndMark(Stream inner, Action ended) : Stream
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            var read = await inner.ReadAsync(buffer, ct);
            if (read == 0 && buffer.Length > 0) ended();
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = inner.Read(buffer, offset, count);
            if (read == 0 && count > 0) ended();
            return read;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
