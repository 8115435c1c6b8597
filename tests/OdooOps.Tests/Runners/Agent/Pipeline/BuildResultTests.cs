using OdooOps.Runners.Agent.Pipeline;

namespace OdooOps.Tests.Runners.Agent.Pipeline;

/// <summary>Folding step outcomes and the worst Odoo log level into the build status.</summary>
public sealed class BuildResultTests
{
    static readonly StepOutcome Ok = new(StepEnd.Succeeded);
    static readonly StepOutcome Skipped = new(StepEnd.Skipped);

    [Fact]
    public void Result_names_match_the_build_statuses()
    {
        Assert.Equal(["success", "warning", "failed", "cancelled", "timed_out"], global::OdooOps.Builds.BuildStatus.Final);
        Assert.Subset(global::OdooOps.Builds.BuildStatus.All.ToHashSet(), Cases.Select(c => (string)c.Data.Item4).ToHashSet());
        Assert.All(Cases, c => Assert.Contains(BuildResult.Fold(c.Data.Item1, c.Data.Item2, c.Data.Item3), global::OdooOps.Builds.BuildStatus.Final));
    }

    public static TheoryData<StepOutcome[], OdooLogLevel?, bool, string> Cases => new()
    {
        { [Ok, Ok], null, false, "success" },
        { [Ok, Skipped], OdooLogLevel.Info, false, "success" },
        { [], null, false, "success" },
        { [Ok], OdooLogLevel.Debug, false, "success" },
        { [Ok, Ok], OdooLogLevel.Warning, false, "warning" },
        { [Ok, new(StepEnd.Failed, ContinueOnError: true)], null, false, "warning" },
        { [new(StepEnd.TimedOut, ContinueOnError: true), Ok], null, false, "warning" },
        { [Ok, new(StepEnd.Failed)], null, false, "failed" },
        { [Ok, new(StepEnd.Failed), Skipped], OdooLogLevel.Warning, false, "failed" },
        { [Ok, Ok], OdooLogLevel.Error, false, "failed" },
        { [Ok], OdooLogLevel.Critical, false, "failed" },
        { [new(StepEnd.Failed, ContinueOnError: true)], OdooLogLevel.Error, false, "failed" },
        { [Ok, new(StepEnd.TimedOut)], null, false, "timed_out" },
        { [new(StepEnd.Failed), new(StepEnd.TimedOut)], OdooLogLevel.Error, false, "timed_out" },
        { [Ok, new(StepEnd.TimedOut, ContinueOnError: true)], null, true, "timed_out" },
        { [Ok, new(StepEnd.Cancelled)], null, false, "cancelled" },
        { [new(StepEnd.Failed), new(StepEnd.Cancelled)], OdooLogLevel.Critical, true, "cancelled" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Folds_steps_and_odoo_levels(StepOutcome[] steps, OdooLogLevel? worst, bool buildTimedOut, string expected) =>
        Assert.Equal(expected, BuildResult.Fold(steps, worst, buildTimedOut));
}
