using OdooOps.Runners.Agent.Execution;

namespace OdooOps.Runners.Agent.Sandbox;

/// <summary>
/// A build's network namespace with outbound access, made once per build and entered by each of its processes that
/// may go out (git's fetch; steps when the project allows). A root shell joins the build's cgroups, makes the namespace
/// (<c>unshare --net</c>, kept by a sleeping holder) and has slirp4netns configure it completely before any process
/// enters: <c>--disable-host-loopback</c> (nothing on the host's loopback — databases, serve, other tenants' instances —
/// is reachable), in a sandbox of its own with seccomp (it parses packets a tenant made). The shell runs under the
/// same lifeline as a step: if the runner dies, the holder and slirp4netns die with it; the build's end stops them.
/// </summary>
internal sealed class SandboxNetwork : IAsyncDisposable
{
    const string Script = """
        set -u
        procs=$1 run=$2
        IFS=:
        for f in $procs; do
          echo $$ > "$f" || { echo "odooops: could not join the build's cgroup ($f)" >&2; exit 125; }
        done
        unset IFS
        mkfifo -m 600 "$run.netns" "$run.ready" || exit 125
        # Held open for reading before the writer starts, so its open never blocks: if this shell dies first, the writer
        # still finishes instead of waiting for a reader forever.
        exec 8<>"$run.netns"
        { unshare --net /bin/sh -c 'echo $$ > "$1"; exec sleep 2147483647' odooops-netns "$run.netns" || echo failed > "$run.netns"; } \
          </dev/null >/dev/null 2>"$run.slirp" 8<&- &
        read -r holder <&8
        exec 8<&-
        case $holder in
          ''|*[!0-9]*) echo "odooops: the build's network namespace could not be made: $(head -c 300 "$run.slirp" | tr '\n' ' ')" >&2; exit 125 ;;
        esac
        slirp4netns --configure --mtu=65520 --disable-host-loopback --enable-sandbox --enable-seccomp --ready-fd=7 "$holder" tap0 \
          7>"$run.ready" </dev/null >/dev/null 2>>"$run.slirp" &
        ready=$(head -c 1 "$run.ready")
        if [ -z "$ready" ]; then
          echo "odooops: the build's network (slirp4netns) did not start: $(head -c 300 "$run.slirp" | tr '\n' ' ')" >&2
          exit 125
        fi
        rm -f "$run.netns" "$run.ready"
        echo "ready $holder $(readlink "/proc/$holder/ns/net")"
        wait
        """;

    readonly CancellationTokenSource _stop;
    readonly Task<StepResult> _run;

    SandboxNetwork(CancellationTokenSource stop, Task<StepResult> run, int holder, string id) =>
        (_stop, _run, Holder, Id) = (stop, run, holder, id);

    /// <summary>The holder's pid: its /proc entry names the namespace to enter.</summary>
    public int Holder { get; }

    /// <summary>The namespace as /proc names it (net:[inode]): checked before entering, so a reused pid is never entered.</summary>
    public string Id { get; }

    public static async Task<SandboxNetwork> StartAsync(IReadOnlyList<string> cgroupProcs, string control, CancellationToken ct)
    {
        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var errors = new List<string>();
        var stop = new CancellationTokenSource();
        var command = new ProcessCommand("/bin/sh", ["-c", Script, "odooops-network", string.Join(':', cgroupProcs), control], "/")
        {
            Environment = new Dictionary<string, string> { ["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin", ["LC_ALL"] = "C" },
        };
        var run = SessionProcess.RunAsync(command,
            line =>
            {
                if (line.Stream == LogStream.Stdout && line.Text.StartsWith("ready ", StringComparison.Ordinal)) ready.TrySetResult(line.Text);
                else if (line.Stream == LogStream.Stderr) errors.Add(line.Text);
            },
            ProcessOptions.Default with { KillGrace = TimeSpan.FromSeconds(1), InheritedVariables = [] }, stop.Token);
        using (ct.Register(() => stop.Cancel()))
            await Task.WhenAny(ready.Task, run);
        if (!ready.Task.IsCompleted)
        {
            await stop.CancelAsync();
            await run;
            stop.Dispose();
            ct.ThrowIfCancellationRequested();
            throw new InvalidOperationException(errors.Count > 0 ? string.Join(" ", errors) : "odooops: the build's network did not start.");
        }
        var parts = ready.Task.Result.Split(' ', 3);
        return new SandboxNetwork(stop, run, int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), parts[2]);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _run;
        _stop.Dispose();
    }
}
