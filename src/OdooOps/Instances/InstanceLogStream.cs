using System.Text.Json;
using Dapper;
using OdooOps.Builds;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Instances;

/// <summary>
/// GET /api/ops/instances/{id}/logs/stream as Server-Sent Events. Every round reads, as the requesting user (RLS), the
/// instance's state and the matching lines after the last one sent, and sends <c>event: line</c> with <c>id: seq</c>
/// (data: the line) for each, then <c>event: state</c> (data {"state", "reason", "desired", "restarts"}) when that
/// changed (first in every stream). An instance's log has no end: the stream lasts until the client leaves or the
/// instance is no longer the user's to see. Between rounds it waits for <see cref="InstanceLogNotifications"/> (a new
/// batch, or the <see cref="InstanceLogWatcher"/> seeing a change) with heartbeats, like the build log stream.
/// </summary>
internal static class InstanceLogStream
{
    const int Batch = 500;

    sealed record StateEvent(string State, string? Reason, string Desired, int Restarts);

    public static async Task WriteAsync(HttpContext http, OpsDatabase db, InstanceLogNotifications notifications, BuildLogStreamSettings settings,
        Guid userId, Guid instanceId, InstanceLogFilter filter, long? after, JsonSerializerOptions json)
    {
        var ct = http.RequestAborted;
        using var subscription = notifications.Subscribe(instanceId); // before the first read: nothing slips in between
        StateEvent? sent = null;
        try
        {
            var sse = await SseWriter.StartAsync(http, () => settings.Heartbeat, ct);
            while (true)
            {
                notifications.CountStreamRead();
                var round = await db.AsUserAsync(userId, async (c, t) =>
                {
                    var state = await c.QuerySingleOrDefaultAsync<StateEvent>(
                        "select state, reason, desired, restarts from ops.instances where id = @instanceId", new { instanceId }, t);
                    if (state is null) return null;
                    // Without a place to resume from, a stream starts at the log's end: only lines to come.
                    after ??= await InstanceLogStore.LastSeqAsync(c, t, instanceId);
                    return new Round(state, await InstanceLogStore.AfterAsync(c, t, instanceId, filter, after.Value, Batch + 1));
                }, ct);
                if (round is null) return; // deleted, or no longer the user's to see

                var more = round.Lines.Count > Batch;
                after = sse.Lines(round.Lines.Take(Batch), l => l.Seq, json, after!.Value);
                if (!more && round.State != sent)
                {
                    sent = round.State;
                    sse.Event("state", null, JsonSerializer.Serialize(sent, json));
                }
                await sse.FlushAsync(ct);
                if (!more) await sse.WaitAsync(subscription, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client went away: nothing to finish.
        }
        catch (IOException) when (ct.IsCancellationRequested)
        {
        }
    }

    sealed record Round(StateEvent State, IReadOnlyList<InstanceLogLine> Lines);
}
