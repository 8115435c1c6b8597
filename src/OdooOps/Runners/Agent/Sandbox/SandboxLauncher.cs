using System.Text;

namespace OdooOps.Runners.Agent.Sandbox;

/// <summary>
/// One process started inside a build's sandbox: bubblewrap (PID, mount, IPC, UTS and network namespaces; the system
/// read-only; the workspace and HOME of the build read-write; its own /tmp, /proc and /dev) started by a small root
/// shell, the launcher. The launcher joins the build's cgroups first, so nothing the build starts can leave them; a
/// process that may go out enters the build's network namespace (<see cref="SandboxNetwork"/>, checked to be that
/// namespace still), any other gets one of its own with a loopback only. Inside, setpriv drops to the build's uid (no
/// capabilities, no new privileges) before the program runs. The step's variables reach bubblewrap through a 0600
/// file (<c>--args</c>), never through the launcher's own environment (a tenant's LD_PRELOAD or PATH must not reach a
/// root shell) nor a command line (ps shows those to the host).
/// </summary>
internal static class SandboxLauncher
{
    /// <summary>
    /// $1 the network to enter ("" for none; else "PID net:[inode]" of the build's namespace holder), $2 cgroup.procs
    /// files (':'-separated), $3 process limit ("" = the cgroup's), $4 the run's control-file prefix, then bwrap's path,
    /// its last arguments ("--", setpriv…) and the program with its arguments. Exit 125 with one line when the sandbox
    /// could not be set up; else the program's status (128+signal if killed).
    /// </summary>
    internal const string Script = """
        set -u
        net=$1 procs=$2 nproc=$3 run=$4
        shift 4
        IFS=:
        for f in $procs; do
          echo $$ > "$f" || { echo "odooops: could not join the build's cgroup ($f)" >&2; exit 125; }
        done
        unset IFS
        bwrap=$1
        shift
        set -- "$bwrap" --args 5 "$@"
        [ -e "$run.seccomp" ] && exec 6<"$run.seccomp"
        [ -n "$nproc" ] && set -- prlimit "--nproc=$nproc:$nproc" -- "$@"
        exec 5<"$run.args"
        [ -z "$net" ] && exec "$@"
        holder=${net%% *}
        if [ "$(readlink "/proc/$holder/ns/net")" != "${net#* }" ]; then
          echo "odooops: the build's network namespace is gone" >&2
          exit 125
        fi
        exec nsenter "--net=/proc/$holder/ns/net" -- "$@"
        """;

    /// <summary>Writes a control file, 0600 from the first byte.</summary>
    internal static void WriteBytes(string path, byte[] content)
    {
        using var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        file.Write(content);
    }

    /// <summary>Writes <paramref name="arguments"/> NUL-separated, 0600 from the first byte, for bwrap's --args.</summary>
    internal static void WriteArguments(string path, IEnumerable<string> arguments)
    {
        var bytes = new List<byte>();
        foreach (var argument in arguments)
        {
            if (argument.Contains('\0')) throw new ArgumentException("An argument holds a NUL character.", nameof(arguments));
            bytes.AddRange(Encoding.UTF8.GetBytes(argument));
            bytes.Add(0);
        }
        WriteBytes(path, [.. bytes]);
    }
}
