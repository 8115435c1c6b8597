using OdooOps.Builds;

namespace OdooOps.Runners.Agent.Pipeline;

/// <summary>How a step ended.</summary>
public enum StepEnd { Succeeded, Failed, TimedOut, Skipped, Cancelled }

/// <summary>A finished step: how it ended and whether its pipeline allowed it to fail.</summary>
public sealed record StepOutcome(StepEnd End, bool ContinueOnError = false);

/// <summary>
/// The result of a build (one of <see cref="BuildStatus.Final"/>), folded from its steps and the worst Odoo log level seen.
/// Order of precedence: cancelled, timed_out, failed, warning, success. A step that failed or timed out under
/// continue_on_error does not fail the build but makes it a warning, so the failure stays visible.
/// </summary>
internal static class BuildResult
{
    /// <param name="buildTimedOut">The whole build ran past its timeout (whatever the stopped step allowed).</param>
    public static string Fold(IReadOnlyCollection<StepOutcome> steps, OdooLogLevel? worstOdooLevel, bool buildTimedOut = false)
    {
        if (steps.Any(s => s.End == StepEnd.Cancelled)) return BuildStatus.Cancelled;
        if (buildTimedOut || steps.Any(s => s.End == StepEnd.TimedOut && !s.ContinueOnError)) return BuildStatus.TimedOut;
        if (steps.Any(s => s.End == StepEnd.Failed && !s.ContinueOnError) || worstOdooLevel >= OdooLogLevel.Error) return BuildStatus.Failed;
        if (steps.Any(s => s.End is StepEnd.Failed or StepEnd.TimedOut) || worstOdooLevel == OdooLogLevel.Warning) return BuildStatus.Warning;
        return BuildStatus.Success;
    }
}
