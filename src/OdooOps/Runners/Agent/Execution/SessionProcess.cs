using System.Diagnostics;

namespace OdooOps.Runners.Agent.Execution;

/// <summary>How a step (or git) ended.</summary>
public enum StepOutcome { Exited, TimedOut, Cancelled }

/// <summary>The result of one process run. <see cref="ExitCode"/> is 128+signal when the process was killed.</summary>
internal sealed record StepResult(int ExitCode, StepOutcome Outcome, TimeSpan Duration)
{
    public bool Succeeded => Outcome == StepOutcome.Exited && ExitCode == 0;

    /// <summary>The wire name: exited, timed_out or cancelled.</summary>
    public string OutcomeName => Outcome switch
    {
        StepOutcome.TimedOut => "timed_out",
        StepOutcome.Cancelled => "cancelled",
        _ => "exited",
    };
}

/// <summary>Runner-wide settings for running processes.</summary>
internal sealed record ProcessOptions
{
    public static readonly ProcessOptions Default = new();

    /// <summary>Time between SIGTERM and SIGKILL when a process tree is ended.</summary>
    public TimeSpan KillGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long output is still read after the process tree is gone; only a process that escaped into a session of its
    /// own can keep the pipe open that long, and reading then stops anyway.
    /// </summary>
    public TimeSpan OutputDrainTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Longer lines are delivered in pieces of this many characters.</summary>
    public int MaxLineChars { get; init; } = 16 * 1024;

    /// <summary>
    /// Another OS user to run the process as (the runner must be root): util-linux <c>setpriv</c> switches to it after
    /// the new session starts, so the process cannot read what only the runner's user may (its token, serve's
    /// credentials). Null: the runner's own user.
    /// </summary>
    public StepUser? RunAs { get; init; }

    /// <summary>The build's sandbox the process runs in (<see cref="RunAs"/> is then ignored); null: none (OPS_RUNNER_UNSANDBOXED=1).</summary>
    public Sandbox.SandboxRun? Sandbox { get; init; }

    /// <summary>
    /// The runner's own variables a process gets; everything else (ODOOOPS_TOKEN, database URLs…) stays out.
    /// </summary>
    public IReadOnlyList<string> InheritedVariables { get; init; } =
        ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER", "LOGNAME",
         // A runner behind a proxy: pip and git in the steps need the way out too.
         "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"];
}

/// <summary>A program to run: arguments are passed as they are, no shell is involved.</summary>
internal sealed record ProcessCommand(string FileName, IReadOnlyList<string> Arguments, string WorkingDirectory)
{
    /// <summary>Added to (and overriding) the inherited variables.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    public TimeSpan? Timeout { get; init; }
}

/// <summary>
/// Runs a program as the leader of a new session (util-linux <c>setsid</c>, which execs in place because our child is
/// never a group leader), streams its output line by line, and on timeout or cancel ends the whole session (SIGTERM,
/// then SIGKILL after <see cref="ProcessOptions.KillGrace"/>). Processes
/// the program leaves behind when it exits are ended too: a run owns its process tree, so nothing keeps running, or
/// keeps the output pipe open, after the run is over. If the runner itself dies (SIGKILL, OOM killer), the
/// <see cref="LifelineGuard"/> ends the program's process group: a lost build leaves nothing running on the host.
/// </summary>
internal static class SessionProcess
{
    const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>
    /// The session leader: a shell that runs the program in the foreground (stdin /dev/null, signals as usual) and a
    /// watcher in the background reading the runner's end of the stdin pipe. The runner holds that pipe open until the
    /// program is over; when the runner dies the kernel closes it, the watcher reads end-of-file (cat exits 0; killed,
    /// it does not) and SIGKILLs the session (pkill -s 0; the process group where procps is missing). The guard exits
    /// with the program's status (128+signal when it was killed).
    /// </summary>
    const string LifelineGuard = """
        exec 3<&0 0</dev/null
        { cat >/dev/null && { pkill -KILL -s 0; kill -KILL 0; }; } <&3 >/dev/null 2>&1 &
        watcher=$!
        exec 3<&-
        "$@"
        status=$?
        kill "$watcher" 2>/dev/null
        exit "$status"
        """;

    /// <summary>
    /// Runs <paramref name="command"/>. <paramref name="onLine"/> gets each stdout and stderr line as soon as it is
    /// complete; calls are serialized (never two at once) and must not throw. Cancellation does not throw: the result
    /// says <see cref="StepOutcome.Cancelled"/>.
    /// </summary>
    public static async Task<StepResult> RunAsync(
        ProcessCommand command, Action<OutputLine> onLine, ProcessOptions? options = null, CancellationToken ct = default)
    {
        options ??= ProcessOptions.Default;
        if (!Directory.Exists(command.WorkingDirectory))
            throw new DirectoryNotFoundException($"Working directory {command.WorkingDirectory} does not exist.");

        var start = new ProcessStartInfo(LocateProgram("setsid"))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = command.WorkingDirectory,
        };
        // Located with the runner's PATH, so a step that sets its own PATH still starts.
        var program = LocateProgram(command.FileName);
        IReadOnlyDictionary<string, string> environment = ChildEnvironment(options.InheritedVariables, command.Environment);
        using var sandboxed = options.Sandbox?.Launch(program, command.Arguments, command.WorkingDirectory, environment);
        if (sandboxed is null && options.RunAs is { } user)
            foreach (var argument in new[] { LocateProgram("setpriv"), $"--reuid={user.Name}", $"--regid={user.Group}", "--init-groups", "--" })
                start.ArgumentList.Add(argument);
        foreach (var argument in new[] { "/bin/sh", "-c", LifelineGuard, "odooops-step" }) start.ArgumentList.Add(argument);
        foreach (var argument in sandboxed?.Argv ?? [program, .. command.Arguments]) start.ArgumentList.Add(argument);
        start.Environment.Clear();
        foreach (var (name, value) in sandboxed?.Environment ?? environment) start.Environment[name] = value;

        var gate = new Lock();
        void Deliver(OutputLine line) { lock (gate) onLine(line); }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {command.FileName}.");
        // Held open (the lifeline) until the program is over; the program itself reads /dev/null, so a script
        // waiting for input gets end-of-file, not a hang.
        using var lifeline = process.StandardInput;
        using var stopReading = new CancellationTokenSource();
        var readers = Task.WhenAll(
            PumpAsync(process.StandardOutput.BaseStream, new LineSplitter(LogStream.Stdout, options.MaxLineChars, Deliver), stopReading.Token),
            PumpAsync(process.StandardError.BaseStream, new LineSplitter(LogStream.Stderr, options.MaxLineChars, Deliver), stopReading.Token));

        using var deadline = new CancellationTokenSource();
        if (command.Timeout is { } timeout) deadline.CancelAfter(timeout);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        var outcome = StepOutcome.Exited;
        try
        {
            await process.WaitForExitAsync(stop.Token);
        }
        catch (OperationCanceledException)
        {
            outcome = ct.IsCancellationRequested ? StepOutcome.Cancelled : StepOutcome.TimedOut;
        }

        await ProcessSession.TerminateAsync(process, options.KillGrace);
        using (var reaped = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            try { await process.WaitForExitAsync(reaped.Token); }
            catch (OperationCanceledException) { } // unkillable (D state): report what we can
        }

        if (await Task.WhenAny(readers, Task.Delay(options.OutputDrainTimeout)) != readers) await stopReading.CancelAsync();
        await readers;
        return new StepResult(process.HasExited ? process.ExitCode : -1, outcome, clock.Elapsed);
    }

    /// <summary>The allow-listed runner variables, a default PATH if the runner has none, then the command's own.</summary>
    internal static Dictionary<string, string> ChildEnvironment(IReadOnlyList<string> inherited, IReadOnlyDictionary<string, string>? own)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in inherited)
            if (Environment.GetEnvironmentVariable(name) is { } value) env[name] = value;
        env.TryAdd("PATH", DefaultPath);
        if (own is not null) foreach (var (name, value) in own) env[name] = value;
        return env;
    }

    /// <summary>The full path of <paramref name="name"/> on the runner's PATH; names with a slash stay as they are.</summary>
    internal static string LocateProgram(string name)
    {
        if (name.Contains('/')) return name;
        var path = Environment.GetEnvironmentVariable("PATH") ?? DefaultPath;
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return name;
    }

    static async Task PumpAsync(Stream source, LineSplitter splitter, CancellationToken ct)
    {
        var buffer = new byte[8192];
        try
        {
            while (true)
            {
                // WaitAsync: a pipe read is not reliably cancellable itself, and a process that escaped the session
                // may hold the pipe open forever; the abandoned read ends when the process is disposed.
                var n = await source.ReadAsync(buffer, ct).AsTask().WaitAsync(ct);
                if (n == 0) break;
                splitter.Write(buffer.AsSpan(0, n));
            }
        }
        catch (OperationCanceledException) { }
        catch (IOException) { }
        splitter.Complete();
    }
}
