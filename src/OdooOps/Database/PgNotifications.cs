using System.Collections.Concurrent;
using Npgsql;

namespace OdooOps.Database;

/// <summary>
/// One LISTEN connection per server process for the run queue's NOTIFY channel, fanned out to waiters: runners' long
/// polls wait on <c>ops_run_queue</c> (an enqueue). (Log streams wait on Builds/BuildLogNotifications; folding both
/// channels into one listener is noted as open work.) A wait
/// also ends at its timeout, so callers re-check the database then: a notification lost while the connection was being
/// re-established only delays them, never strands them.
/// </summary>
public sealed class PgNotifications(OpsDatabase database, ILogger<PgNotifications> log) : BackgroundService
{
    public const string RunQueue = "ops_run_queue";
    static readonly string[] Channels = [RunQueue];

    readonly ConcurrentDictionary<string, TaskCompletionSource> _waits = new();

    /// <summary>
    /// A task that completes at the next notification on <paramref name="channel"/> (with this payload, when given).
    /// Take it before reading the database, then wait on it: a notification sent in between is not missed.
    /// </summary>
    public Task Next(string channel, string? payload = null) =>
        _waits.GetOrAdd(payload is null ? channel : $"{channel}:{payload}",
            _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Waits for <paramref name="next"/> (from <see cref="Next"/>) or the timeout, whichever is first.</summary>
    public static async Task WaitAsync(Task next, TimeSpan timeout, CancellationToken ct)
    {
        try { await next.WaitAsync(timeout, ct); }
        catch (TimeoutException) { }
    }

    void Signal(string key)
    {
        if (_waits.TryRemove(key, out var signal)) signal.TrySetResult();
    }

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        var delay = TimeSpan.FromSeconds(1);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var conn = await database.Service.OpenConnectionAsync(stop);
                conn.Notification += (_, e) =>
                {
                    Signal(e.Channel);
                    if (e.Payload.Length > 0) Signal($"{e.Channel}:{e.Payload}");
                };
                foreach (var channel in Channels)
                    await using (var listen = new NpgsqlCommand($"listen {channel}", conn)) await listen.ExecuteNonQueryAsync(stop);
                delay = TimeSpan.FromSeconds(1);
                foreach (var key in _waits.Keys) Signal(key); // whatever was missed while not listening
                while (!stop.IsCancellationRequested) await conn.WaitAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { return; }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                log.LogWarning("Listening for database notifications failed ({Message}); retrying in {Delay}.", e.Message, delay);
                try { await Task.Delay(delay, stop); } catch (OperationCanceledException) { return; }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }
}
