namespace OdooOps.Runners.Agent.Execution;

/// <summary>One pipeline step: its <c>run:</c> script, the folder it runs in, its variables and time limit.</summary>
internal sealed record StepCommand(string Run, string WorkingDirectory)
{
    public IReadOnlyDictionary<string, string>? Environment { get; init; }
    public TimeSpan? Timeout { get; init; }
}

/// <summary>
/// Runs a step's script with <c>bash --noprofile --norc -e -o pipefail -c &lt;run&gt;</c>. A multi-line <c>run:</c> then
/// behaves like a CI script (as GitHub Actions' bash shell does): the first failing command, also inside a pipeline,
/// fails the step with its exit code, instead of only the last line's status counting. A script that wants to go on
/// after a failure says so (<c>cmd || true</c>, <c>set +e</c>).
/// </summary>
internal static class StepProcess
{
    public static Task<StepResult> RunAsync(
        StepCommand step, Action<OutputLine> onLine, ProcessOptions? options = null, CancellationToken ct = default) =>
        SessionProcess.RunAsync(
            new ProcessCommand("bash", BashArguments(step.Run), step.WorkingDirectory)
            {
                Environment = step.Environment,
                Timeout = step.Timeout,
            },
            onLine, options, ct);

    internal static IReadOnlyList<string> BashArguments(string run) =>
        ["--noprofile", "--norc", "-e", "-o", "pipefail", "-c", run];
}
