using System.Net;
using System.Net.Sockets;
using System.Text;

namespace OdooOps.Tests.Backups.Storage;

/// <summary>A loopback TCP relay to <paramref name="target"/> that keeps what clients sent, to read the requests on the wire.</summary>
public sealed class RecordingRelay : IAsyncDisposable
{
    readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    readonly Uri _target;
    readonly MemoryStream _sent = new();
    readonly CancellationTokenSource _stop = new();
    readonly List<Task> _connections = [];
    Task _accept = Task.CompletedTask;

    RecordingRelay(Uri target) => _target = target;

    public Uri Endpoint => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

    public static Task<RecordingRelay> StartAsync(Uri target)
    {
        var relay = new RecordingRelay(target);
        relay._listener.Start();
        relay._accept = relay.AcceptAsync();
        return Task.FromResult(relay);
    }

    /// <summary>Everything sent so far, as Latin-1 text (headers and XML readable, bodies as they are).</summary>
    public string Sent()
    {
        lock (_sent) return Encoding.Latin1.GetString(_sent.GetBuffer(), 0, (int)_sent.Length);
    }

    async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (OperationCanceledException) { return; }
            lock (_connections) _connections.Add(RelayAsync(client));
        }
    }

    async Task RelayAsync(TcpClient client)
    {
        using (client)
        using (var server = new TcpClient())
        {
            await server.ConnectAsync(_target.Host, _target.Port);
            var fromClient = client.GetStream();
            var toServer = server.GetStream();
            var up = CopyAsync(fromClient, toServer, record: true);
            var down = CopyAsync(toServer, fromClient, record: false);
            await Task.WhenAny(up, down);
        }
    }

    async Task CopyAsync(Stream from, Stream to, bool record)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int n;
            while ((n = await from.ReadAsync(buffer, _stop.Token)) > 0)
            {
                if (record) lock (_sent) _sent.Write(buffer, 0, n);
                await to.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException) { }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accept;
        Task[] open;
        lock (_connections) open = [.. _connections];
        await Task.WhenAll(open);
        _stop.Dispose();
    }
}
