using System.Text.RegularExpressions;

namespace OdooOps.Runners.Agent.Execution;

/// <summary>Runs git commands for one checkout, under one overall deadline, echoing them to the build log.</summary>
internal sealed partial class GitRunner(string directory, GitWorkspaceOptions options, IReadOnlyDictionary<string, string> access,
    Action<OutputLine> onLine, CancellationToken ct)
{
    readonly DateTimeOffset _deadline = DateTimeOffset.UtcNow + options.GitTimeout;

    public sealed record Run(int ExitCode, IReadOnlyList<OutputLine> Lines)
    {
        public string Stdout() => string.Join('\n', Lines.Where(l => l.Stream == LogStream.Stdout).Select(l => l.Text)).Trim();

        /// <summary>Git's first "fatal:"/"error:" line (later ones add little), else its last line: the reason, on one line.</summary>
        public string LastError()
        {
            var errors = Lines.Where(l => l.Stream == LogStream.Stderr && l.Text.Trim().Length > 0).Select(l => l.Text.Trim()).ToList();
            var reason = errors.FirstOrDefault(l => l.StartsWith("fatal:", StringComparison.Ordinal) || l.StartsWith("error:", StringComparison.Ordinal))
                ?? errors.LastOrDefault() ?? $"git exited with code {ExitCode}";
            return Redact(reason);
        }
    }

    public void Say(string text) => onLine(new OutputLine(LogStream.System, text, DateTimeOffset.UtcNow));

    /// <summary>Runs git; <paramref name="echo"/> false keeps the command and its output (ref lists) out of the log.</summary>
    public async Task<Run> RunAsync(IReadOnlyList<string> args, bool echo = true)
    {
        var left = _deadline - DateTimeOffset.UtcNow;
        if (left <= TimeSpan.Zero) throw TimedOut();
        if (echo) Say("$ git " + Redact(string.Join(' ', args)));
        var lines = new List<OutputLine>();
        var result = await SessionProcess.RunAsync(
            new ProcessCommand("git", args, directory) { Environment = Environment(), Timeout = left },
            line =>
            {
                lines.Add(line);
                // git repeats the remote's URL in its messages ("From https://user:token@…"): never into the log.
                if (echo) onLine(line with { Text = Redact(line.Text) });
            },
            options.Process, ct);
        if (result.Outcome == StepOutcome.Cancelled) throw new OperationCanceledException(ct);
        if (result.Outcome == StepOutcome.TimedOut) throw TimedOut();
        return new Run(result.ExitCode, lines);
    }

    /// <summary>Like <see cref="RunAsync"/>, but a non-zero exit throws "&lt;what&gt; failed: &lt;git's reason&gt;".</summary>
    public async Task<Run> RequireAsync(IReadOnlyList<string> args, string what, bool echo = true)
    {
        var run = await RunAsync(args, echo);
        if (run.ExitCode != 0) throw new GitCheckoutException(GitFailure.GitFailed, $"{what} failed: {run.LastError()}");
        return run;
    }

    GitCheckoutException TimedOut() =>
        new(GitFailure.TimedOut, $"git did not finish within {options.GitTimeout.TotalSeconds:0} s and was stopped.");

    /// <summary>What <see cref="GitAccess"/> allows, then the runner's own additions (tests: GIT_SSH_COMMAND…).</summary>
    Dictionary<string, string> Environment()
    {
        var env = new Dictionary<string, string>(access, StringComparer.Ordinal);
        if (options.GitEnvironment is not null) foreach (var (name, value) in options.GitEnvironment) env[name] = value;
        return env;
    }

    /// <summary>Hides the credentials of https://user:token@host URLs in log lines and messages.</summary>
    public static string Redact(string text) => Credentials().Replace(text, "://***@");

    [GeneratedRegex(@"://[^/@\s]+@")]
    private static partial Regex Credentials();
}
