using System.Diagnostics;
using Dapper;

namespace OdooOps.Database;

/// <summary>
/// The fallback behind a <see cref="KeyedNotifications"/>, one per server process and channel: every poll interval (and
/// at once after the listener reconnected) one query over the ids that have live streams here (<paramref name="marksSql"/>,
/// answering (id, mark) rows for <c>@ids</c>), and a wake-up for the streams of each id whose mark changed since the
/// previous round (or that it sees for the first time). Streams read the database only when woken, so the database's load
/// from live logs grows with the lines written, not with the streams open. Runs as ops_service; the woken streams read as
/// their users.
/// </summary>
internal abstract class MarkWatcher(KeyedNotifications notifications, OpsDatabase db, Func<TimeSpan> poll, ILogger log,
    string marksSql, string what) : BackgroundService
{
    static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);
    const string Gone = "";
    readonly Dictionary<Guid, string> _marks = [];
    bool _failing;

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        var last = Stopwatch.GetTimestamp();
        while (!stop.IsCancellationRequested)
        {
            var left = poll() - Stopwatch.GetElapsedTime(last);
            if (left > TimeSpan.Zero)
            {
                // A second at a time at most, so that a changed interval applies without a restart.
                try
                {
                    if (!await notifications.WaitForRoundRequestAsync(left < Tick ? left : Tick, stop)) continue;
                }
                catch (OperationCanceledException) { break; }
            }
            last = Stopwatch.GetTimestamp();
            try
            {
                await RoundAsync(stop);
                notifications.CountWatcherRound();
                _failing = false;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { break; }
            catch (Exception e)
            {
                // The database may be down: the streams keep their clients and heartbeats, and the next round tries again.
                if (!_failing) log.LogWarning("Looking for {What} changes failed ({Message}); trying again every round.", what, e.Message);
                _failing = true;
            }
        }
    }

    async Task RoundAsync(CancellationToken ct)
    {
        var watched = notifications.Watched();
        foreach (var id in _marks.Keys.Where(id => !watched.Contains(id)).ToList()) _marks.Remove(id);
        if (watched.Count == 0) return;

        Dictionary<Guid, string> marks;
        await using (var conn = await db.Service.OpenConnectionAsync(ct))
            marks = (await conn.QueryAsync<(Guid Id, string Mark)>(new CommandDefinition(
                    marksSql, new { ids = watched.ToArray() }, cancellationToken: ct)))
                .ToDictionary(m => m.Id, m => m.Mark);
        foreach (var id in watched)
        {
            // Deleted meanwhile: its streams are woken once, and their read finds nothing and ends them.
            var mark = marks.GetValueOrDefault(id, Gone);
            if (_marks.TryGetValue(id, out var seen) && seen == mark) continue;
            _marks[id] = mark;
            notifications.Signal(id);
        }
    }
}
