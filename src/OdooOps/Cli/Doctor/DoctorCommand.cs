using System.CommandLine;

namespace OdooOps.Cli.Doctor;

/// <summary>`odooops doctor`: the deployment's success criteria as a ✓/✗/– table; exit 0 only when nothing fails.</summary>
internal static class DoctorCommand
{
    public static Command Create()
    {
        var url = new Option<string?>("--url") { Description = $"The server to check (default: env {ClientConfig.UrlVariable}, the stored URL, else {ClientConfig.DefaultUrl})." };
        var databaseUrl = CliCommon.DatabaseUrlOption();
        var dataDir = CliCommon.DataDirOption();
        var command = new Command("doctor",
            "Check a deployment live: database, migrations, functions, RLS, secrets, demo data, UI, API and pages. " +
            "Rows marked – are not available yet and do not fail the run.") { url, databaseUrl, dataDir };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            var settings = ClientConfig.Resolve(parse.GetValue(url));
            var rows = await DoctorChecks.RunAsync(CliCommon.Configuration(parse, databaseUrl, dataDir), settings.Url, settings.Token, ct);
            Print(rows);
            return rows.Any(r => r.Outcome == DoctorChecks.Outcome.Fail) ? 1 : 0;
        }));
        return command;
    }

    static void Print(IReadOnlyList<DoctorChecks.Row> rows)
    {
        var width = rows.Max(r => r.Name.Length);
        foreach (var row in rows)
        {
            var mark = row.Outcome switch
            {
                DoctorChecks.Outcome.Pass => ConsoleOutput.Paint("✓", "32"),
                DoctorChecks.Outcome.Fail => ConsoleOutput.Paint("✗", "31"),
                _ => ConsoleOutput.Paint("–", "2"),
            };
            Console.WriteLine($"{mark} {row.Name.PadRight(width)}  {row.Detail}");
        }
        int Count(DoctorChecks.Outcome o) => rows.Count(r => r.Outcome == o);
        Console.WriteLine($"{Count(DoctorChecks.Outcome.Pass)} passed, {Count(DoctorChecks.Outcome.Fail)} failed, {Count(DoctorChecks.Outcome.NotAvailable)} not available yet.");
    }
}
