using System.Text.Json;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Builds;

/// <summary>
/// GET /api/ops/builds/{id}/logs/stream as Server-Sent Events. Every round reads, as the requesting user (RLS), the
/// build's status, the lines after the last one sent and the steps, and sends what is new, in this order:
/// <c>event: line</c> with <c>id: seq</c> (data: the line), <c>event: step</c> (data: the step) for every step
/// that changed, <c>event: status</c> (data {"status"}) when the status changed, and, once the build finished and
/// every line was sent, <c>event: end</c> (data {"status", "result_detail", "started_at", "finished_at"}), after
/// which the server closes.
/// Between rounds it waits until <see cref="BuildLogNotifications"/> wakes it — on a notification of the build, or when
/// the server's one <see cref="BuildLogWatcher"/> saw the build change — writing a <c>: heartbeat</c> comment when
/// nothing was sent for a while. A stream never polls the database by itself.
/// </summary>
internal static class BuildLogStream
{
    public const string ContentType = SseWriter.ContentType;
    const int Batch = 500;

    /// <summary>Writes the stream until the build ends, it becomes invisible to the user, or the client goes away.</summary>
    public static async Task WriteAsync(HttpContext http, OpsDatabase db, BuildLogNotifications notifications, BuildLogStreamSettings settings,
        Guid userId, Guid buildId, long after, JsonSerializerOptions json)
    {
        var ct = http.RequestAborted;
        using var subscription = notifications.Subscribe(buildId); // before the first read: nothing slips in between
        string? status = null;
        var steps = new Dictionary<int, BuildStep>();
        try
        {
            var sse = await SseWriter.StartAsync(http, () => settings.Heartbeat, ct);
            while (true)
            {
                notifications.CountStreamRead();
                var round = await db.AsUserAsync(userId, async (c, t) =>
                {
                    if (await BuildLogStore.StateAsync(c, t, buildId) is not { } state) return null;
                    var lines = await BuildLogStore.LinesAfterAsync(c, t, buildId, after, Batch + 1);
                    return new Round(state, lines, await BuildLogStore.StepsAsync(c, t, buildId));
                }, ct);
                if (round is null) return; // deleted, or no longer the user's to see

                var more = round.Lines.Count > Batch;
                // Lines first: a client sees a finished status only after the lines that led to it.
                after = sse.Lines(round.Lines.Take(Batch), l => l.Seq, json, after);
                foreach (var step in round.Steps.Where(s => !steps.TryGetValue(s.Seq, out var sent) || sent != s))
                {
                    steps[step.Seq] = step;
                    sse.Event("step", null, JsonSerializer.Serialize(step, json));
                }
                if (!more && round.State.Status != status) // not while lines from before the change are still to come
                {
                    status = round.State.Status;
                    sse.Event("status", null, JsonSerializer.Serialize(new { status }, json));
                }
                if (!more && round.State.IsFinished)
                {
                    var s = round.State;
                    sse.Event("end", null, JsonSerializer.Serialize(new { status = s.Status, result_detail = s.ResultDetail, started_at = s.StartedAt, finished_at = s.FinishedAt }, json));
                }
                await sse.FlushAsync(ct);
                if (more) continue;
                if (round.State.IsFinished) return;
                await sse.WaitAsync(subscription, ct);
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

    sealed record Round(BuildLogStore.BuildState State, IReadOnlyList<BuildLogLine> Lines, IReadOnlyList<BuildStep> Steps);
}
