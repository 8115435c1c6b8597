using System.Collections.Concurrent;
using Npgsql;

namespace OdooOps.Database;

/// <summary>
/// The server process's one LISTEN connection, for every NOTIFY channel OdooOps uses: <c>ops_run_queue</c> (an
/// enqueue: runners' long polls wake), <c>ops_build_logs</c> (a build's log, steps or status changed: its log
/// streams wake), <c>instance_logs</c> (an instance's log grew), <c>instance_actions</c> (a person's instance action), <c>task_logs</c> (a runner task's log or end) and
/// <c>ops_instance_routes</c> (an instance, a domain or a host label changed: the instance proxy's route cache is
/// dropped). Waiters take <see cref="Next"/> before they read the database, so a notification in between is not
/// missed; channel handlers (<see cref="On"/>) fan payloads out further. When the connection drops every waiter and
/// handler is woken (it may have missed something) and the service reconnects; waits also end at their timeouts, so a
/// notification lost meanwhile only delays a reader, never strands it.
/// </summary>
public sealed class PgNotifications(OpsDatabase database, ILogger<PgNotifications> log) : BackgroundService
{
    public const string RunQueue = "ops_run_queue";
    public const string BuildLogs = "ops_build_logs";
    /// <summary>An instance's Odoo log grew (ops.append_instance_logs; payload: the instance id): its log streams wake.</summary>
    public const string InstanceLogs = "instance_logs";
    /// <summary>Someone started, stopped or restarted an instance (ops.request_instance_action; payload: the runner id).</summary>
    public const string InstanceActions = "instance_actions";
    /// <summary>An instance, a domain, a host label or a runner's address changed: the instance proxy's route cache is dropped.</summary>
    public const string InstanceRoutes = "ops_instance_routes";
    /// <summary>A runner task's log grew or the task ended (the task functions; payload: the task id): its log streams wake.</summary>
    public const string TaskLogs = "task_logs";
    /// <summary>A notification was queued or redelivered (Notifications/Sql; no payload): the delivery workers wake.</summary>
    public const string Notifications = "ops_notifications";
    static readonly string[] Channels = [RunQueue, BuildLogs, InstanceLogs, InstanceActions, InstanceRoutes, TaskLogs, Notifications];

    /// <summary>The listener's application_name, so an operator (or a test) finds it in pg_stat_activity.</summary>
    public const string ApplicationName = "odooops listener";

    readonly ConcurrentDictionary<string, TaskCompletionSource> _waits = new();
    readonly ConcurrentDictionary<string, Action<string?>> _handlers = new();
    volatile bool _listening;

    /// <summary>True while the LISTEN connection is up (doctor and tests look at it).</summary>
    public bool Listening => _listening;

    /// <summary>
    /// A task that completes at the next notification on <paramref name="channel"/>.
    /// Take it before reading the database, then wait on it: a notification sent in between is not missed.
    /// </summary>
    public Task Next(string channel) =>
        _waits.GetOrAdd(channel, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>
    /// Calls <paramref name="handler"/> with each notification's payload on <paramref name="channel"/>, and with null
    /// after a reconnect (anything may have been missed). Runs on the listener's thread: keep it short.
    /// </summary>
    public void On(string channel, Action<string?> handler)
    {
        if (!Channels.Contains(channel)) throw new ArgumentException($"Not a listened channel: {channel}", nameof(channel));
        _handlers.AddOrUpdate(channel, handler, (_, existing) => existing + handler);
    }

    /// <summary>
    /// Sends a notification in a transaction of its own that does not wait for the disk (a wake-up is not data worth
    /// an fsync), after the change it announces has committed durably.
    /// </summary>
    public async Task NotifyAsync(string channel, string payload, CancellationToken ct = default)
    {
        await using var conn = await database.Service.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var cmd = new NpgsqlCommand("select pg_catalog.set_config('synchronous_commit', 'off', true), pg_catalog.pg_notify($1, $2)", conn, tx))
        {
            cmd.Parameters.Add(new() { Value = channel });
            cmd.Parameters.Add(new() { Value = payload });
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }

    /// <summary>Waits for <paramref name="next"/> (from <see cref="Next"/>) or the timeout, whichever is first.</summary>
    public static async Task WaitAsync(Task next, TimeSpan timeout, CancellationToken ct)
    {
        try { await next.WaitAsync(timeout, ct); }
        catch (TimeoutException) { }
    }

    void Dispatch(string channel, string? payload)
    {
        if (_waits.TryRemove(channel, out var signal)) signal.TrySetResult();
        if (_handlers.TryGetValue(channel, out var handler))
        {
            try { handler(payload); }
            catch (Exception e) { log.LogError(e, "A handler of {Channel} failed.", channel); }
        }
    }

    void DispatchAll()
    {
        foreach (var channel in Channels) Dispatch(channel, null);
    }

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        var delay = TimeSpan.FromSeconds(1);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { break; }
            catch (Exception e)
            {
                if (_listening)
                {
                    log.LogWarning("The database notification listener lost its connection ({Message}); reconnecting.", e.Message);
                    delay = TimeSpan.FromSeconds(1);
                }
                else log.LogWarning("Listening for database notifications failed ({Message}); retrying in {Delay}.", e.Message, delay);
            }
            _listening = false;
            DispatchAll();
            try { await Task.Delay(delay, stop); } catch (OperationCanceledException) { break; }
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
        }
        _listening = false;
    }

    async Task ListenAsync(CancellationToken ct)
    {
        await using var conn = await database.Service.OpenConnectionAsync(ct);
        conn.Notification += (_, e) => Dispatch(e.Channel, e.Payload);
        var listen = string.Join("; ", Channels.Select(c => $"listen {c}"));
        await using (var cmd = new NpgsqlCommand($"set application_name = '{ApplicationName}'; {listen}", conn))
            await cmd.ExecuteNonQueryAsync(ct);
        _listening = true;
        DispatchAll(); // whatever was sent while we were away
        while (true)
        {
            // An idle connection that died says nothing: a periodic round trip finds out.
            if (!await conn.WaitAsync(TimeSpan.FromSeconds(30), ct))
                await using (var ping = new NpgsqlCommand("select 1", conn))
                    await ping.ExecuteScalarAsync(ct);
        }
    }
}
