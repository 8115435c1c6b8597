using System.Threading.Channels;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OdooOps.Database;
using OdooOps.Scheduler;
using OdooOps.Tests.Observability;

namespace OdooOps.Tests.Scheduler;

/// <summary>
/// One server replica as far as the scheduler is concerned: its own service provider, pools (ops_service login) and
/// logs, wired by the product's AddOpsScheduler, on a shared database and a shared test clock. Every finished tick
/// is also written to <see cref="Ticks"/>, so tests wait for ticks instead of sleeping.
/// </summary>
public sealed class SchedulerNode : IAsyncDisposable
{
    readonly ServiceProvider _services;
    readonly OpsDatabase _database;

    /// <summary>
    /// How long a test waits for ticks or timers before failing instead of hanging: generous, because a tick does real
    /// database work and the machine may be busy; a passing test never waits it out.
    /// </summary>
    public static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    public SchedulerService Scheduler { get; }
    public LogCapture Logs { get; } = new();
    public Channel<SchedulerService.TickResult> Ticks { get; } = Channel.CreateUnbounded<SchedulerService.TickResult>();

    /// <param name="configure">Services the jobs under test need besides these (e.g. the backup storage's operations).</param>
    public SchedulerNode(LoginRoles.Credentials credentials, TimeProvider clock, IReadOnlyList<ScheduledJob> jobs, IDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? configure = null)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();
        _database = OpsDatabase.Create(credentials);
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(Logs).SetMinimumLevel(LogLevel.Debug));
        services.AddSingleton<IConfiguration>(config);
        services.AddSingleton(_database);
        services.AddSingleton(clock);
        services.AddOpsScheduler(config, jobs);
        configure?.Invoke(services);
        _services = services.BuildServiceProvider();
        Scheduler = _services.GetRequiredService<SchedulerService>();
        Scheduler.TickCompleted += r => Ticks.Writer.TryWrite(r);
    }

    /// <summary>The next <paramref name="count"/> finished ticks of this node (fails rather than hangs).</summary>
    public async Task<List<SchedulerService.TickResult>> NextTicksAsync(int count)
    {
        using var cts = new CancellationTokenSource(Patience);
        var results = new List<SchedulerService.TickResult>();
        try
        {
            while (results.Count < count) results.Add(await Ticks.Reader.ReadAsync(cts.Token));
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"only {results.Count} of {count} ticks finished: {string.Join(", ", results)}");
        }
        return results;
    }

    public async ValueTask DisposeAsync()
    {
        await Scheduler.StopAsync(CancellationToken.None);
        await _services.DisposeAsync();
        await _database.DisposeAsync();
    }
}
