using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace OdooOps.Scheduler;

/// <summary>
/// A job of the in-process scheduler: a name (also its configuration key <c>OPS_JOB_&lt;name&gt;</c> and its
/// ops.job_runs.job), a default cron (UTC, 5 fields, or 6 with seconds first) and the work, which gets a scoped
/// service provider and a token that is cancelled at <see cref="Timeout"/> or shutdown, and returns the detail
/// recorded with a successful run. An exception fails the run (its message is the detail); the next tick tries again.
/// </summary>
public sealed partial record ScheduledJob(string Name, string DefaultCron, Func<IServiceProvider, CancellationToken, Task<string>> Run)
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(5);

    /// <summary>How long one run may take before it is cancelled and recorded as failed.</summary>
    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    /// <summary>Checks the job's own settings at start-up; throws a one-line message naming the bad key.</summary>
    public Action<IConfiguration>? CheckSettings { get; init; }

    /// <summary>Names are configuration keys and environment variable names, so they stay plain.</summary>
    [GeneratedRegex("^[a-z][a-z0-9_]{0,62}$")]
    internal static partial Regex NamePattern();
}

/// <summary>Registers the scheduler with a host: the jobs it is given (`serve`: ServerApp.Jobs), their schedule (checked here) and the hosted service.</summary>
internal static class SchedulerSetup
{
    public static IServiceCollection AddOpsScheduler(this IServiceCollection services, IConfiguration config, IReadOnlyList<ScheduledJob> jobs)
    {
        // Built (and so checked) while the host is being built: a bad cron or setting stops `serve` with one line
        // (CliCommon.Guard) before anything listens, instead of a hosted service failing later in a logged stack trace.
        services.AddSingleton(JobSchedule.Build(jobs, config));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<SchedulerService>();
        services.AddHostedService(sp => sp.GetRequiredService<SchedulerService>());
        return services;
    }
}
