using System.CommandLine;
using OdooOps.Metrics;

namespace OdooOps.Cli.Client;

/// <summary>
/// `odooops metrics show PROJECT`: every metric of a branch over a range, as the Metrics page's table shows it (the
/// summary API: samples, latest value, mean, extremes); the API picks the resolution from the range.
/// </summary>
internal static class MetricsShowCommand
{
    public static Command Create()
    {
        var project = new Argument<string>("project") { Description = "The project's slug or id." };
        var org = ProjectsCommand.OrgOption("The project's organisation (when its slug is used in several).");
        var branch = new Option<string?>("--branch") { Description = "The branch's name (default: production)." };
        var range = new Option<string?>("--range") { Description = $"One of {string.Join(", ", MetricSeriesQuery.Ranges.Keys)} (default 24h), ending now." };
        var from = new Option<string?>("--from") { Description = $"Start of a custom range, {IngestTimestamp.Expected}." };
        var to = new Option<string?>("--to") { Description = "End of a custom range (default: now)." };
        var json = ProjectsCommand.JsonOption();
        var command = new Command("show", "A branch's metrics over a range: latest value, mean, lowest, highest, samples (needs `odooops login`).")
            { project, org, branch, range, from, to, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var p = await ProjectResolver.ResolveAsync(api, parse.GetValue(project)!, parse.GetValue(org), ct);
            var query = new List<string>();
            void Add(string name, string? value) { if (value is not null) query.Add($"{name}={Uri.EscapeDataString(value)}"); }
            Add("branch", parse.GetValue(branch));
            Add("range", parse.GetValue(range));
            Add("from", parse.GetValue(from));
            Add("to", parse.GetValue(to));
            var summary = await api.GetAsync<MetricSeriesApi.MetricsSummary>($"api/ops/projects/{p.Id}/metrics/summary?{string.Join('&', query)}", ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(summary); return 0; }
            Console.WriteLine($"{p.Slug}/{summary.Branch}, {summary.From:yyyy-MM-dd HH:mm}–{summary.To:yyyy-MM-dd HH:mm} UTC ({summary.Resolution}, {summary.StepSeconds} s steps)");
            ConsoleOutput.Table(["metric", "latest", "mean", "lowest", "highest", "samples"], summary.Metrics.Select(m => (IReadOnlyList<string?>)[
                m.Metric, MetricCatalog.Format(m.Metric, m.Last), MetricCatalog.Format(m.Metric, m.Avg), MetricCatalog.Format(m.Metric, m.Min),
                MetricCatalog.Format(m.Metric, m.Max), m.Count.ToString()]));
            if (summary.Metrics.Count == 0) Console.Error.WriteLine($"No samples on {summary.Branch} in this range.");
            return 0;
        }));
        return command;
    }
}
