using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace OdooOps.Tests.Instances.Proxy;

/// <summary>
/// A stand-in for an instance's Odoo: a real Kestrel server on two loopback ports (Odoo's HTTP port and its gevent
/// port) that answers every path with what it saw — its name, which port, method, path, query, Host, the
/// X-Forwarded-* headers and the body's length — and echoes websocket messages at /websocket. It sets headers of its own
/// and no content security policy, as Odoo does.
/// </summary>
public sealed class EchoUpstream : IAsyncDisposable
{
    readonly WebApplication _app;

    public string Name { get; }
    public int HttpPort { get; }
    public int GeventPort { get; }

    EchoUpstream(WebApplication app, string name)
    {
        _app = app;
        Name = name;
        var ports = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a).Port).ToArray();
        (HttpPort, GeventPort) = (ports[0], ports[1]);
    }

    public static async Task<EchoUpstream> StartAsync(string name)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls("http://127.0.0.1:0;http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(o => o.Limits.MaxRequestBodySize = null);
        var app = builder.Build();
        app.UseWebSockets();
        EchoUpstream? self = null;
        app.Run(async context =>
        {
            var port = context.Connection.LocalPort == self!.GeventPort ? "gevent" : "http";
            if (context.WebSockets.IsWebSocketRequest)
            {
                using var socket = await context.WebSockets.AcceptWebSocketAsync();
                await EchoAsync(socket, $"{name}/{port}: ");
                return;
            }
            long length = 0;
            var buffer = new byte[81920];
            int n;
            while ((n = await context.Request.Body.ReadAsync(buffer)) > 0) length += n;
            var h = context.Request.Headers;
            context.Response.Headers["X-Upstream"] = name;
            context.Response.Headers["Set-Cookie"] = $"session_id={name}; HttpOnly; Path=/";
            await context.Response.WriteAsJsonAsync(new Dictionary<string, object?>
            {
                ["upstream"] = name, ["port"] = port, ["method"] = context.Request.Method, ["path"] = context.Request.Path.Value,
                ["query"] = context.Request.QueryString.Value, ["host"] = h.Host.ToString(), ["x_forwarded_for"] = h["X-Forwarded-For"].ToString(),
                ["x_forwarded_proto"] = h["X-Forwarded-Proto"].ToString(), ["x_forwarded_host"] = h["X-Forwarded-Host"].ToString(),
                ["x_real_ip"] = h["X-Real-IP"].ToString(), ["forwarded"] = h["Forwarded"].ToString(), ["cookie"] = h.Cookie.ToString(),
                ["body_length"] = length,
            });
        });
        await app.StartAsync();
        return self = new EchoUpstream(app, name);
    }

    static async Task EchoAsync(WebSocket socket, string prefix)
    {
        var buffer = new byte[4096];
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                return;
            }
            var text = prefix + System.Text.Encoding.UTF8.GetString(buffer, 0, received.Count);
            await socket.SendAsync(System.Text.Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
