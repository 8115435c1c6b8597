namespace OdooOps.Runners.Agent.Pipeline;

/// <summary>What a build runs: its steps in order and an optional timeout for the whole build.</summary>
internal sealed record PipelineDefinition(TimeSpan? Timeout, IReadOnlyList<PipelineStep> Steps);

/// <summary>
/// One step: a bash script run from the repository root. A step with a <see cref="SkipReason"/> is not run: the runner
/// prints the reason to the build log and records the step as skipped (only generated pipelines set it; a
/// <c>.odooops.yml</c> step always runs).
/// </summary>
internal sealed record PipelineStep(
    string Name,
    string Run,
    TimeSpan? Timeout,
    IReadOnlyDictionary<string, string> Env,
    bool ContinueOnError,
    string? SkipReason = null)
{
    public static readonly IReadOnlyDictionary<string, string> NoEnv = new Dictionary<string, string>();

    public bool Skipped => SkipReason is not null;
}
