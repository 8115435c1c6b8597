using System.Diagnostics;
using System.Runtime.InteropServices;

namespace OdooOps.Runners.Agent.Execution;

/// <summary>
/// Finds and signals every process of a Linux session. A step runs as the leader of its own session (via setsid), so
/// its children, background jobs and orphans that init adopted all share the session id, even after moving to another
/// process group; only a process that starts a session of its own escapes.
/// </summary>
internal static class ProcessSession
{
    const int SigTerm = 15;
    const int SigKill = 9;
    static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    [DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int sig);

    /// <summary>Living (not zombie) processes whose session id is <paramref name="sessionId"/>.</summary>
    public static List<int> Members(int sessionId)
    {
        var members = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            string stat;
            try { stat = File.ReadAllText(Path.Combine(dir, "stat")); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; } // exited meanwhile
            if (TryParseStat(stat, out var state, out var session) && session == sessionId && state is not ('Z' or 'X'))
                members.Add(pid);
        }
        return members;
    }

    /// <summary>Reads state and session from /proc/&lt;pid&gt;/stat; the command name may hold spaces and parentheses.</summary>
    internal static bool TryParseStat(string stat, out char state, out int session)
    {
        state = ' ';
        session = 0;
        var close = stat.LastIndexOf(')');
        if (close < 0 || close + 2 >= stat.Length) return false;
        var fields = stat[(close + 2)..].Split(' ');
        // state ppid pgrp session …
        if (fields.Length < 4 || fields[0].Length == 0) return false;
        state = fields[0][0];
        return int.TryParse(fields[3], out session);
    }

    /// <summary>
    /// SIGTERM to the leader and the whole session, then SIGKILL to whatever is still alive after <paramref name="grace"/>
    /// (children that trap or ignore SIGTERM). Returns when no member is left, or after a few seconds of SIGKILL if
    /// something cannot die (uninterruptible sleep).
    /// </summary>
    public static async Task TerminateAsync(Process leader, TimeSpan grace)
    {
        var sessionId = leader.Id;
        if (!Signal(leader, sessionId, SigTerm)) return;
        var clock = Stopwatch.StartNew();
        // Short looks first: what is left is usually already dying (a sandbox's processes go with its PID namespace),
        // and a step should not wait a whole poll for it.
        var wait = TimeSpan.FromMilliseconds(1);
        while (clock.Elapsed < grace)
        {
            await Task.Delay(wait);
            if (!Alive(leader, sessionId)) return;
            wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, Poll.Ticks));
        }
        clock.Restart();
        while (Signal(leader, sessionId, SigKill) && clock.Elapsed < TimeSpan.FromSeconds(5))
            await Task.Delay(Poll);
    }

    static bool Alive(Process leader, int sessionId) => !leader.HasExited || Members(sessionId).Count > 0;

    /// <summary>Signals the leader (while it is ours and unreaped) and every session member; false when none is left.</summary>
    static bool Signal(Process leader, int sessionId, int signal)
    {
        var any = false;
        // Before setsid has run in the child the leader is not yet in its group: signal it by pid too. Only while it
        // has not exited, so a reused pid is never hit.
        if (!leader.HasExited)
        {
            kill(leader.Id, signal);
            any = true;
        }
        var members = Members(sessionId);
        if (members.Count == 0) return any;
        // The group signal is atomic, so a forking loop cannot outrun it; members that left the group are signalled one by one.
        kill(-sessionId, signal);
        foreach (var pid in members) kill(pid, signal);
        return true;
    }
}
