using System.CommandLine;
using OdooOps.Configuration;
using OdooOps.Secrets;

namespace OdooOps.Cli.Admin;

/// <summary>`odooops secrets generate|check`: the specification's shared secrets, never printed.</summary>
internal static class SecretsCommand
{
    public static Command Create()
    {
        var secrets = new Command("secrets", "Generate and check the shared secrets (OPS_INGEST_TOKEN, OPS_ADVISORY_SCAN_TOKEN).");
        secrets.Add(Generate());
        secrets.Add(Check());
        return secrets;
    }

    static Command Generate()
    {
        var output = new Option<string?>("--out") { Description = "Env file to write (created 0600; default <data-dir>/secrets.env)." };
        var force = new Option<bool>("--force") { Description = "Replace values already in the file (rotates them)." };
        var dataDir = CliCommon.DataDirOption();
        var command = new Command("generate", "Write fresh 32-byte hex values to an env file.") { output, force, dataDir };
        command.SetAction(parse => CliCommon.Guard(() =>
        {
            var config = OpsConfiguration.Build(new Dictionary<string, string?> { [OpsConfiguration.DataDir] = parse.GetValue(dataDir) });
            var path = Path.GetFullPath(parse.GetValue(output) ?? SecretsFile.DefaultPath(OpsConfiguration.ResolveDataDir(config)));
            var existing = SecretsFile.Read(path);
            var clash = OpsSecrets.Names.Where(existing.ContainsKey).ToList();
            if (clash.Count > 0 && !parse.GetValue(force))
                throw new InvalidOperationException($"{path} already holds {string.Join(", ", clash)}; use --force to rotate them.");
            SecretsFile.Write(path, OpsSecrets.Names.ToDictionary(n => n, _ => OpsSecrets.Generate()));
            Console.WriteLine($"Wrote {string.Join(", ", OpsSecrets.Names)} to {path} (mode 0600). Load it with: set -a; . {path}; set +a");
            return Task.FromResult(0);
        }));
        return command;
    }

    static Command Check()
    {
        var dataDir = CliCommon.DataDirOption();
        var command = new Command("check", "Say whether each secret is set, missing or too weak (never its value); exit 1 if any is not set.") { dataDir };
        command.SetAction(parse => CliCommon.Guard(() =>
        {
            var config = OpsConfiguration.Build(new Dictionary<string, string?> { [OpsConfiguration.DataDir] = parse.GetValue(dataDir) });
            var reports = SecretsSetup.Inspect(config, OpsConfiguration.ResolveDataDir(config));
            foreach (var r in reports)
            {
                var state = r.State switch { SecretState.Set => "set", SecretState.Weak => "too weak (need 32+ random characters)", _ => "missing" };
                Console.WriteLine($"{(r.State == SecretState.Set ? "✓" : "✗")} {r.Name,-24} {state}{(r.Source.Length > 0 ? $"  ({r.Source})" : "")}");
            }
            return Task.FromResult(reports.All(r => r.State == SecretState.Set) ? 0 : 1);
        }));
        return command;
    }
}
