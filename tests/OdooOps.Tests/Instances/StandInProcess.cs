using System.Diagnostics;

namespace OdooOps.Tests.Instances;

/// <summary>A running stand-in odoo-bin (or a wrapper such as bwrap around it): its log lines as they come, its exit.</summary>
public sealed class StandInProcess : IAsyncDisposable
{
    readonly Process _process;
    readonly List<string> _stderr = [];
    readonly List<string> _stdout = [];

    StandInProcess(Process process) => _process = process;

    /// <summary>
    /// Starts <paramref name="fileName"/> with exactly <paramref name="environment"/> (nothing of the test process's
    /// own: no USER, LOGNAME or PG* leaks in) in <paramref name="workingDirectory"/>.
    /// </summary>
    public static StandInProcess Start(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment,
        string workingDirectory)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory, RedirectStandardError = true, RedirectStandardOutput = true,
            RedirectStandardInput = true, UseShellExecute = false,
        };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        info.Environment.Clear();
        foreach (var (key, value) in environment) info.Environment[key] = value;
        var process = new Process { StartInfo = info };
        var run = new StandInProcess(process);
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (run._stderr) run._stderr.Add(e.Data); };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (run._stdout) run._stdout.Add(e.Data); };
        process.Start();
        process.StandardInput.Close();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return run;
    }

    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>stderr so far: Odoo logs there unless --logfile.</summary>
    public IReadOnlyList<string> Log { get { lock (_stderr) return [.. _stderr]; } }
    public IReadOnlyList<string> Stdout { get { lock (_stdout) return [.. _stdout]; } }
    public string Output => string.Join("\n", Log);

    /// <summary>The exit code, once the process and its output ended; fails after <paramref name="patience"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan? patience = null)
    {
        using var cts = new CancellationTokenSource(patience ?? TimeSpan.FromSeconds(60));
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { Assert.Fail($"odoo-bin still running after {patience}:\n{Output}"); }
        return _process.ExitCode;
    }

    /// <summary>The first log line that <paramref name="match"/>es, waiting for it; fails if the process ends first or after <paramref name="patience"/>.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, string what, TimeSpan? patience = null)
    {
        var deadline = DateTime.UtcNow + (patience ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            if (Log.FirstOrDefault(match) is { } line) return line;
            if (HasExited && Log.FirstOrDefault(match) is null) Assert.Fail($"odoo-bin ended ({_process.ExitCode}) without logging {what}:\n{Output}");
            if (DateTime.UtcNow > deadline) Assert.Fail($"odoo-bin did not log {what} in time:\n{Output}");
            await Task.Delay(20);
        }
    }

    /// <summary>Sends <paramref name="signal"/> (TERM, KILL…) to <paramref name="pid"/>, as systemd or an operator would.</summary>
    public static void Signal(int pid, string signal) => Process.Start("kill", [$"-{signal}", pid.ToString()])!.WaitForExit();

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
