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
internal sealed record PortForward(string HostAddress, int HostPort, int GuestPort);

/// <summary>What a long-running sandbox (an instance) needs beyond a build's: the same uid each time, ports reachable from the host.</summary>
internal sealed record SandboxHosting(Guid UidKey, IReadOnlyList<PortForward> Ports);

internal sealed class SandboxNetwork : IAsyncDisposable
{
    const string Script = """
        set -u
        procs=$1 run=$2 api=$3
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
        set -- --configure --mtu=65520 --disable-host-loopback --enable-sandbox --enable-seccomp --ready-fd=7
        [ -n "$api" ] && set -- "$@" --api-socket "$api"
        slirp4netns "$@" "$holder" tap0 \
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

    public static async Task<SandboxNetwork> StartAsync(IReadOnlyList<string> cgroupProcs, string control, CancellationToken ct,
        IReadOnlyList<PortForward>? forwards = null)
    {
        var api = forwards is { Count: > 0 } ? ApiSocketPath() : "";
        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var errors = new List<string>();
        var stop = new CancellationTokenSource();
        var command = new ProcessCommand("/bin/sh", ["-c", Script, "odooops-network", string.Join(':', cgroupProcs), control, api], "/")
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
        var network = new SandboxNetwork(stop, run, int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), parts[2]);
        try
        {
            foreach (var forward in forwards ?? []) await ForwardAsync(api, forward, ct);
        }
        catch
        {
            await network.DisposeAsync();
            throw;
        }
        finally
        {
            if (api.Length > 0) File.Delete(api);
        }
        return network;
    }

    /// <summary>
    /// The slirp4netns API socket: in a root-only folder (whoever reaches it could forward more of the namespace's
    /// ports), under a short path (a socket path holds at most 107 bytes). Deleted once the ports are forwarded.
    /// </summary>
    static string ApiSocketPath()
    {
        var folder = Directory.Exists("/run") ? "/run/odooops-slirp" : Path.Combine(Path.GetTempPath(), "odooops-slirp");
        Directory.CreateDirectory(folder);
        File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return Path.Combine(folder, Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)) + ".sock");
    }

    /// <summary>
    /// A host port that reaches a port inside the namespace (slirp4netns' add_hostfwd): how the proxy reaches an
    /// instance. Bound on the host address only; nothing inside the namespace can reach the host's loopback.
    /// </summary>
    static async Task ForwardAsync(string api, PortForward forward, CancellationToken ct)
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream,
            System.Net.Sockets.ProtocolType.Unspecified);
        for (var attempt = 0; ; attempt++)
        {
            // slirp4netns makes its API socket as it starts: a moment after "ready" at most.
            try { await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(api), ct); break; }
            catch (System.Net.Sockets.SocketException) when (attempt < 100) { await Task.Delay(20, ct); }
        }
        var request = System.Text.Json.JsonSerializer.Serialize(new
        {
            execute = "add_hostfwd",
            arguments = new { proto = "tcp", host_addr = forward.HostAddress, host_port = forward.HostPort, guest_port = forward.GuestPort },
        });
        await socket.SendAsync(System.Text.Encoding.UTF8.GetBytes(request), ct);
        var buffer = new byte[4096];
        var read = await socket.ReceiveAsync(buffer, ct);
        var answer = System.Text.Encoding.UTF8.GetString(buffer, 0, read);
        if (!answer.Contains("\"return\"", StringComparison.Ordinal))
            throw new InvalidOperationException($"odooops: port {forward.HostPort} could not be forwarded into the sandbox: {answer.Trim()}");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _run;
        _stop.Dispose();
    }
}
