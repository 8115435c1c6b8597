using System.CommandLine;
using OdooOps.Configuration;
using OdooOps.Database;
using OdooOps.Seed;

namespace OdooOps.Cli.Admin;

/// <summary>`odooops seed --demo`: the demo organisation, idempotent.</summary>
internal static class SeedCommand
{
    public static Command Create()
    {
        var demo = new Option<bool>("--demo") { Description = "Load the demo organisation, users, projects, builds, metrics and advisories." };
        var url = CliCommon.DatabaseUrlOption();
        var dataDir = CliCommon.DataDirOption();
        var command = new Command("seed", "Load data into the database.") { demo, url, dataDir };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            if (!parse.GetValue(demo))
                throw new ArgumentException("Say what to load: --demo.");
            var config = CliCommon.Configuration(parse, url, dataDir);
            await using var target = await DatabaseTarget.OpenAsync(config, exclusive: false, ct);
            var status = await new Migrator(target.Owner.ConnectionString).GetStatusAsync(ct: ct);
            if (!status.IsCurrent)
                throw new InvalidOperationException("The database is not migrated: run `odooops db migrate` first.");
            await DemoData.SeedAsync(target.Owner.ConnectionString, config[OpsConfiguration.DemoPassword], Console.Out, ct,
                Path.Combine(OpsConfiguration.ResolveDataDir(config), "demo-repos"));
            return 0;
        }));
        return command;
    }
}
