using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using MimeKit;

namespace OdooOps.Tests.Notifications;

/// <summary>
/// A real SMTP server for e-mail deliveries: Debian's aiosmtpd (scripts/deps.sh installs python3-aiosmtpd), started by
/// the test on a free loopback port with its Mailbox handler, which stores every message it accepts in a maildir (with
/// the envelope in X-MailFrom / X-RcptTo). Messages are read back with MimeKit. <see cref="StartScriptedAsync"/> runs
/// a handler that answers as told instead (a transient refusal of the recipients or of the message, a permanent one, or
/// no answer at all once it has the message) and counts the messages it was given (<see cref="DataCount"/>).
/// </summary>
public sealed class SmtpReceiver : IAsyncDisposable
{
    readonly Process _process;
    readonly string _dir;
    public int Port { get; }

    SmtpReceiver(Process process, string dir, int port) => (_process, _dir, Port) = (process, dir, port);

    /// <summary>What a scripted server does: refuse every recipient for now (rcpt-451), refuse the message for now (data-451) or for good (data-554), or never answer once it has it (data-hang).</summary>
    public enum Script { Rcpt451, Data451, Data554, DataHang }

    const string Handler = """
        import asyncio, os

        class Scripted:
            def __init__(self):
                self.mode = os.environ["ODOOOPS_SMTP_MODE"]
                self.log = os.environ["ODOOOPS_SMTP_LOG"]

            def note(self, what):
                with open(self.log, "a") as f:
                    f.write(what + "\n")

            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if self.mode == "rcpt-451":
                    return "451 4.3.0 Try again later"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                self.note("data")
                if self.mode == "data-hang":
                    await asyncio.Event().wait()
                if self.mode == "data-451":
                    return "451 4.3.0 Mailbox busy, try again later"
                if self.mode == "data-554":
                    return "554 5.6.0 Message refused"
                return "250 OK"
        """;

    public static Task<SmtpReceiver> StartAsync() => StartAsync(null);

    public static Task<SmtpReceiver> StartScriptedAsync(Script script) => StartAsync(script);

    /// <summary>How many messages (DATA) a scripted server was given.</summary>
    public int DataCount => File.Exists(Path.Combine(_dir, "log")) ? File.ReadAllLines(Path.Combine(_dir, "log")).Count(l => l == "data") : 0;

    static async Task<SmtpReceiver> StartAsync(Script? script)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"odooops-smtp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var port = FreePort();
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        string[] handler = ["aiosmtpd.handlers.Mailbox", Path.Combine(dir, "maildir")];
        if (script is { } s)
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "odooops_scripted.py"), Handler);
            start.Environment["PYTHONPATH"] = dir;
            start.Environment["ODOOOPS_SMTP_MODE"] = s switch
            {
                Script.Rcpt451 => "rcpt-451", Script.Data451 => "data-451", Script.Data554 => "data-554", _ => "data-hang",
            };
            start.Environment["ODOOOPS_SMTP_LOG"] = Path.Combine(dir, "log");
            handler = ["odooops_scripted.Scripted"];
        }
        foreach (var a in (string[])["-m", "aiosmtpd", "-n", "-l", $"127.0.0.1:{port}", "-c", .. handler])
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
