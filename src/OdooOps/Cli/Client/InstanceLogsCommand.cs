using System.CommandLine;
using System.Text.Json;
using OdooOps.Instances;
using OdooOps.Runners.Agent.Pipeline;

namespace OdooOps.Cli.Client;

/// <summary>`odooops instances logs ID [--level L] [--grep TEXT] [--lines N] [--follow] [--json]`.</summary>
internal static class InstanceLogsCommand
{
    public static Command Create()
    {
        var id = InstancesCommand.IdArgument();
        var level = new Option<string?>("--level") { Description = $"Only lines at this level or above ({string.Join(", ", InstanceLogFilter.Levels)})." };
        var grep = new Option<string?>("--grep") { Description = "Only lines containing this text (case-insensitive)." };
        var lines = new Option<int>("--lines", "-n") { Description = $"How many of the last lines to print first (1–{InstanceLogsApi.MaxLimit}).", DefaultValueFactory = _ => 100 };
        var follow = new Option<bool>("--follow", "-f") { Description = "Then print new lines as they come, until Ctrl+C." };
        var json = new Option<bool>("--json") { Description = "One JSON object per line (seq, ts, level, line) instead of the text." };
        var command = new Command("logs", "Print an instance's Odoo log (the last lines), filtered by level and text; --follow streams it live.")
            { id, level, grep, lines, follow, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var instanceId = parse.GetValue(id);
            var filter = (parse.GetValue(level) is { } l ? $"&level={Uri.EscapeDataString(l)}" : "")
                         + (parse.GetValue(grep) is { } g ? $"&q={Uri.EscapeDataString(g)}" : "");
            var asJson = parse.GetValue(json);
            InstanceLogPage page;
            try { page = await api.GetAsync<InstanceLogPage>($"api/ops/instances/{instanceId}/logs?limit={parse.GetValue(lines)}{filter}", ct); }
            catch (ApiException e) when (e.Status == System.Net.HttpStatusCode.NotFound)
            {
                throw new ApiException(e.Status, $"No instance with the id {instanceId} (or it is not yours to see).");
            }
            foreach (var line in page.Lines) Print(line, asJson);
            if (!parse.GetValue(follow)) return 0;

            var after = page.NextAfterSeq;
            try
            {
                await LiveStream.FollowAsync(api, () => $"api/ops/instances/{instanceId}/logs/stream?after_seq={after}{filter}", e =>
                {
                    if (e.Name == "line" && JsonSerializer.Deserialize<InstanceLogLine>(e.Data, ApiClient.Json) is { } line)
                    {
                        Print(line, asJson);
                        after = line.Seq;
                    }
                    return false; // an instance's log has no end
                }, $"the log stream of instance {instanceId}", ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
            return 0;
        }));
        return command;
    }

    static void Print(InstanceLogLine line, bool json)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(line, ApiClient.Json));
            return;
        }
        var text = AnsiEscapes.Strip(line.Line);
        Console.WriteLine(line.Level switch
        {
            "ERROR" or "CRITICAL" => ConsoleOutput.Paint(text, "31"),
            "WARNING" => ConsoleOutput.Paint(text, "33"),
            "DEBUG" => ConsoleOutput.Paint(text, "2"),
            _ => text,
        });
    }
}
