namespace OdooOps.Tests.Infrastructure;

/// <summary>
/// Tests that keep both cores busy for a while (several runner processes, hundreds of builds, sandboxed builds that
/// exhaust their memory and process limits) run alone, after the
/// others: in parallel they starve timing-sensitive tests (browser waits, live-log latencies) of CPU.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeavyTests
{
    public const string Name = "heavy (runs alone)";
}
