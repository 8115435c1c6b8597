using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using MimeKit;

namespace OdooOps.Tests.Notifications;

/// <summary>
/// A real SMTP server for e-mail deliveries: Debian's aiosmtpd (scripts/deps.sh installs python3-aiosmtpd), started by
/// the test on a free loopback port with its Mailbox handler, which stores every message it accepts in a maildir (with
/// the envelope in X-MailFrom / X-RcptTo). Messages are read back with MimeKit.
/// </summary>
public sealed class SmtpReceiver : IAsyncDisposable
{
    readonly Process _process;
    readonly string _dir;
    public int Port { get; }

    SmtpReceiver(Process process, string dir, int port) => (_process, _dir, Port) = (process, dir, port);

    public static async Task<SmtpReceiver> StartAsync()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"odooops-smtp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var port = FreePort();
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-m", "aiosmtpd", "-n", "-l", $"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Mailbox", Path.Combine(dir, "maildir") })
            start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        var receiver = new SmtpReceiver(process, dir, port);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"aiosmtpd exited: {await process.StandardError.ReadToEndAsync()}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port, deadline.Token);
                return receiver;
            }
            catch (SocketException) { await Task.Delay(100, deadline.Token); }
        }
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public IReadOnlyList<MimeMessage> Messages
    {
        get
        {
            var folder = Path.Combine(_dir, "maildir", "new");
            return Directory.Exists(folder) ? [.. Directory.GetFiles(folder).Order().Select(f => MimeMessage.Load(f))] : [];
        }
    }

    /// <summary>Waits (generously) for a message whose subject contains <paramref name="text"/>.</summary>
    public async Task<MimeMessage> WaitForAsync(Func<MimeMessage, bool> match)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while (true)
        {
            if (Messages.FirstOrDefault(match) is { } found) return found;
            try { await Task.Delay(100, deadline.Token); }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"No matching message; got: {string.Join(", ", Messages.Select(m => m.Subject))}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        await _process.WaitForExitAsync();
        _process.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
