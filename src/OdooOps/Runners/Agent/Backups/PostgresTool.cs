using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using OdooOps.Database;
using OdooOps.Runners.Agent.Instances;

namespace OdooOps.Runners.Agent.Backups;

/// <summary>
/// pg_dump or pg_restore of the machine's PostgreSQL, run by the runner as the project's database role: a clean
/// environment (no runner secret), stderr kept (its tail is the reason on failure), killed with its run.
/// </summary>
internal sealed class PostgresTool : IAsyncDisposable
{
    const int ErrorTail = 8 * 1024;
    readonly Process _process;
    readonly StringBuilder _stderr = new();
    readonly Task _errors;
    readonly string _name;

    PostgresTool(Process process, string name, Action<string>? log)
    {
        (_process, _name) = (process, name);
        _errors = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync() is { } line)
            {
                log?.Invoke($"{name}: {line}");
                lock (_stderr)
                {
                    _stderr.AppendLine(line);
                    if (_stderr.Length > 4 * ErrorTail) _stderr.Remove(0, _stderr.Length - ErrorTail);
                }
            }
        });
    }

    public static PostgresTool Start(PostgresBinaries postgres, string tool, IEnumerable<string> arguments, OdooDatabaseServer server,
        Guid projectId, bool production, Action<string>? log)
    {
        var start = new ProcessStartInfo(postgres.Tool(tool))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.Environment.Clear();
        start.Environment["PATH"] = "/usr/bin:/bin";
        start.Environment["LC_ALL"] = "C";
        start.Environment["PGAPPNAME"] = "odooops-" + tool;
        foreach (var (name, value) in server.ProjectClientEnvironment(projectId, production)) start.Environment[name] = value;
        var process = Process.Start(start) ?? throw new BackupException($"{tool} could not be started.");
        process.StandardInput.Close();
        return new PostgresTool(process, tool, log);
    }

    /// <summary>What the program writes (pg_dump's archive); its pipe enlarged so that it rarely waits on us.</summary>
    public Stream Output
    {
        get
        {
            var stream = _process.StandardOutput.BaseStream;
            var handle = stream switch
            {
                System.IO.Pipes.PipeStream pipe => pipe.SafePipeHandle.DangerousGetHandle(),
                FileStream file => file.SafeFileHandle.DangerousGetHandle(),
                _ => -1,
            };
            const int SetPipeSize = 1031; // F_SETPIPE_SZ
            if (handle >= 0) _ = fcntl((int)handle, SetPipeSize, 1 << 20); // best effort: limited by /proc/sys/fs/pipe-max-size
            return stream;
        }
    }

    /// <summary>Waits for the end; throws with the program's own error lines when it failed.</summary>
    public async Task WaitAsync(CancellationToken ct)
    {
        try { await _process.WaitForExitAsync(ct); }
        catch (OperationCanceledException)
        {
            Kill();
            throw;
        }
        await _errors;
        if (_process.ExitCode != 0)
        {
            string errors;
            lock (_stderr) errors = _stderr.ToString().Trim();
            if (errors.Length > ErrorTail) errors = "…" + errors[^ErrorTail..];
            throw new BackupException($"{_name} failed (exit code {_process.ExitCode}){(errors.Length > 0 ? ": " + errors : ".")}");
        }
    }

    /// <summary>Ends the program now (and its pipes with it, so a reader waiting on them returns).</summary>
    public void Kill()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { } // ended meanwhile
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        using (var reaped = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            try { await _process.WaitForExitAsync(reaped.Token); }
            catch (OperationCanceledException) { }
        try { await _errors.WaitAsync(TimeSpan.FromSeconds(5)); }
        catch (TimeoutException) { }
        _process.Dispose();
    }

    [DllImport("libc", SetLastError = true)]
    static extern int fcntl(int fd, int command, int argument);
}
