using System.Diagnostics;
using OdooOps.Runners.Agent.Execution;

namespace OdooOps.Tests.Runners.Agent.Execution;

/// <summary>Real bash processes: streaming, exit codes, environment, and ending whole process trees.</summary>
public sealed class StepProcessTests : IDisposable
{
    readonly string _dir = ProcessProbe.NewTempDir("odooops-step");
    readonly LineRecorder _recorder = new();
    static readonly ProcessOptions Quick = new() { KillGrace = TimeSpan.FromSeconds(1), OutputDrainTimeout = TimeSpan.FromMilliseconds(500) };

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    Task<StepResult> RunAsync(string run, TimeSpan? timeout = null, IReadOnlyDictionary<string, string>? env = null,
        ProcessOptions? options = null, CancellationToken ct = default) =>
        StepProcess.RunAsync(new StepCommand(run, _dir) { Timeout = timeout, Environment = env }, _recorder.Add, options ?? Quick, ct);

    [Fact]
    public async Task Lines_arrive_in_order_on_their_streams()
    {
        var result = await RunAsync("for i in $(seq 1 500); do echo \"line $i\"; done\necho oops >&2\necho after");
        Assert.True(result.Succeeded);
        Assert.Equal(Enumerable.Range(1, 500).Select(i => $"line {i}").Append("after"), _recorder.Texts());
        Assert.Equal(["oops"], _recorder.Texts(LogStream.Stderr));
        Assert.All(_recorder.Lines, l => Assert.True(l.Timestamp > DateTimeOffset.UtcNow.AddMinutes(-1)));
    }

    [Fact]
    public async Task A_line_arrives_while_the_step_still_runs()
    {
        // The step goes on only once the test has received its first line, then sleeps 2 s: the gap between the two
        // lines cannot shrink however late a busy machine delivers the first.
        var go = Path.Combine(_dir, "go");
        var run = RunAsync($"echo first\nwhile [ ! -e '{go}' ]; do sleep 0.01; done\nsleep 2\necho second", timeout: TimeSpan.FromMinutes(2));
        await _recorder.WaitForLineAsync("first");
        Assert.False(run.IsCompleted, "the step ended before its first line was read");
        await File.WriteAllTextAsync(go, "");
        var result = await run;
        Assert.True(result.Succeeded);
        Assert.True(result.Duration >= TimeSpan.FromSeconds(2));
        Assert.True(_recorder.ArrivalOf("first") < TimeSpan.FromSeconds(1.2), $"first arrived after {_recorder.ArrivalOf("first")}");
        Assert.True(_recorder.ArrivalOf("second") - _recorder.ArrivalOf("first") > TimeSpan.FromSeconds(1.5));
    }

    [Theory]
    [InlineData("exit 7", 7)]
    [InlineData("true", 0)]
    [InlineData("false\necho not reached", 1)] // -e: a failing line fails a multi-line script
    [InlineData("false | cat\necho not reached", 1)] // pipefail
    [InlineData("no-such-command-here", 127)]
    public async Task Exit_codes_follow_the_script(string run, int exitCode)
    {
        var result = await RunAsync(run);
        Assert.Equal(StepOutcome.Exited, result.Outcome);
        Assert.Equal("exited", result.OutcomeName);
        Assert.Equal(exitCode, result.ExitCode);
        Assert.DoesNotContain("not reached", _recorder.Texts());
    }

    [Fact]
    public async Task Long_lines_are_split_invalid_utf8_replaced_and_a_last_partial_line_kept()
    {
        var result = await RunAsync("head -c 40000 /dev/zero | tr '\\0' a; echo\nprintf 'bad \\377\\376 bytes\\r\\n'\nprintf 'no newline at the end'");
        Assert.True(result.Succeeded);
        Assert.Equal([new string('a', 16384), new string('a', 16384), new string('a', 40000 - 2 * 16384),
            "bad \uFFFD\uFFFD bytes", "no newline at the end"], _recorder.Texts());
    }

    [Fact]
    public async Task The_step_sees_its_variables_and_the_runners_path_but_no_runner_secret()
    {
        Environment.SetEnvironmentVariable("ODOOOPS_TOKEN_EXEC_TEST", "runner-secret-value");
        var result = await RunAsync("echo \"build=$ODOOOPS_BUILD_ID\"\necho \"path=$PATH\"\necho \"dir=$(pwd)\"\nenv",
            env: new Dictionary<string, string> { ["ODOOOPS_BUILD_ID"] = "b-42" });
        Assert.True(result.Succeeded);
        var texts = _recorder.Texts();
        Assert.Contains("build=b-42", texts);
        Assert.Contains("path=" + Environment.GetEnvironmentVariable("PATH"), texts);
        Assert.Contains("dir=" + _dir, texts);
        Assert.DoesNotContain(texts, t => t.Contains("runner-secret-value") || t.StartsWith("ODOOOPS_TOKEN"));
    }

    [Fact]
    public async Task Timeout_kills_the_tree_including_a_background_grandchild_and_a_child_ignoring_sigterm()
    {
        var run = """
            sleep 300 &
            echo "pid $!"
            ( trap '' TERM; sleep 300 & echo "pid $!"; wait ) &
            echo "pid $!"
            echo "pid $$"
            sleep 300
            """;
        var result = await RunAsync(run, timeout: TimeSpan.FromSeconds(1));
        Assert.Equal(StepOutcome.TimedOut, result.Outcome);
        Assert.Equal("timed_out", result.OutcomeName);
        Assert.Contains(result.ExitCode, new[] { 128 + 15, 128 + 9 }); // killed by SIGTERM or SIGKILL
        // SIGTERM was ignored by part of the tree, so SIGKILL came after the 1 s grace.
        Assert.InRange(result.Duration, TimeSpan.FromSeconds(1.9), TimeSpan.FromSeconds(10));
        var pids = _recorder.ReportedPids();
        Assert.Equal(4, pids.Count);
        Assert.All(pids, pid => Assert.False(ProcessProbe.IsAlive(pid), $"pid {pid} is still alive"));
    }

    [Fact]
    public async Task Cancel_kills_the_tree()
    {
        using var cancel = new CancellationTokenSource();
        var run = RunAsync("sleep 300 &\necho \"pid $!\"\n( trap '' TERM; sleep 300 ) &\necho \"pid $!\"\necho \"pid $$\"\nwait", ct: cancel.Token);
        var pids = await _recorder.WaitForPidsAsync(3);
        Assert.All(pids, pid => Assert.True(ProcessProbe.IsAlive(pid), $"pid {pid} should run before the cancel"));
        await cancel.CancelAsync();
        var result = await run;
        Assert.Equal(StepOutcome.Cancelled, result.Outcome);
        Assert.Equal("cancelled", result.OutcomeName);
        Assert.All(pids, pid => Assert.False(ProcessProbe.IsAlive(pid), $"pid {pid} is still alive"));
    }

    [Fact]
    public async Task A_background_child_left_behind_is_ended_and_does_not_hold_the_step_open()
    {
        var result = await RunAsync("sleep 300 &\necho \"pid $!\"\necho done");
        Assert.True(result.Succeeded);
        Assert.True(result.Duration < TimeSpan.FromSeconds(5), $"took {result.Duration}");
        Assert.Equal("done", _recorder.Texts()[^1]);
        Assert.False(ProcessProbe.IsAlive(_recorder.ReportedPids().Single()));
    }

    [Fact]
    public async Task Reading_ends_even_when_an_escaped_process_keeps_the_pipe_open()
    {
        // setsid puts the sleep in a session of its own, out of the step's reach, still holding stdout. The script waits
        // until the move happened (field 6 of /proc/<pid>/stat is the session), or the step's own clean-up may win.
        var result = await RunAsync("""
            setsid sleep 60 &
            pid=$!
            echo "pid $pid"
            until [ "$(cut -d' ' -f6 /proc/$pid/stat)" = "$pid" ]; do sleep 0.05; done
            echo done
            """);
        var escaped = _recorder.ReportedPids().Single();
        try
        {
            Assert.True(result.Succeeded);
            Assert.True(result.Duration < TimeSpan.FromSeconds(5), $"took {result.Duration}");
            Assert.True(ProcessProbe.IsAlive(escaped), "the escaped process was expected to survive, holding the pipe");
            Assert.Equal("done", _recorder.Texts()[^1]);
        }
        finally
        {
            if (ProcessProbe.IsAlive(escaped)) Process.GetProcessById(escaped).Kill();
        }
    }

    [Fact]
    public async Task A_missing_working_directory_is_named()
    {
        var missing = Path.Combine(_dir, "nope");
        var error = await Assert.ThrowsAsync<DirectoryNotFoundException>(() =>
            StepProcess.RunAsync(new StepCommand("true", missing), _recorder.Add, Quick));
        Assert.Contains(missing, error.Message);
    }
}
