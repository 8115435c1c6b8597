namespace OdooOps.Runners.Pipeline;

/// <summary>How a step ended.</summary>
public enum StepEnd { Succeeded, Failed, TimedOut, Skipped, Cancelled }

/// <summary>A finished step: how it ended and whether its pipeline allowed it to fail.</summary>
public sealed record StepOutcome(StepEnd End, bool ContinueOnError = false);

/// <summary>
/// The result of a build (the values of ops.builds.status), folded from its steps and the worst Odoo log level seen.
/// Order of precedence: cancelled, timed_out, failed, warning, success. A step that failed or timed out under
/// continue_on_error does not fail the build but makes it a warning, so the failure stays visible.
/// </summary>
public static class BuildResult
{
    public const string Success = "success";
    public const string Warning = "warning";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    public const string TimedOut = "timed_out";

    /// <param name="buildTimedOut">The whole build ran past its timeout (whatever the stopped step allowed).</param>
    public static string Fold(IReadOnlyCollection<StepOutcome> steps, OdooLogLevel? worstOdooLevel, bool buildTimedOut = false)
    {
        if (steps.Any(s => s.End == StepEnd.Cancelled)) return Cancelled;
        if (buildTimedOut || steps.Any(s => s.End == StepEnd.TimedOut && !s.ContinueOnError)) return TimedOut;
        if (steps.Any(s => s.End == StepEnd.Failed && !s.ContinueOnError) || worstOdooLevel >= OdooLogLevel.Error) return Failed;
        if (steps.Any(s => s.End is StepEnd.Failed or StepEnd.TimedOut) || worstOdooLevel == OdooLogLevel.Warning) return Warning;
        return Success;
    }
}
