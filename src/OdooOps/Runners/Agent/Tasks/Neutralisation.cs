using OdooOps.Database;
using OdooOps.Runners.Agent.Backups;
using OdooOps.Runners.Agent.Execution;
using OdooOps.Runners.Agent.Instances;
using OdooOps.Runners.Agent.Sandbox;

namespace OdooOps.Runners.Agent.Tasks;

/// <summary>
/// Makes a copy of production harmless before a staging or development server runs on it: one path for a restore into
/// such a branch and a staging build's fresh copy. Odoo 16.0 and later neutralise themselves (<c>odoo-bin neutralize</c>,
/// run in a sandbox of its own with the release's addons, since installed modules bring their own neutralize.sql);
/// older versions get OdooOps' SQL. Then the same check for every version: a database that fails it is refused (the
/// caller does not start it), and the report says what was changed and what was checked.
/// </summary>
internal sealed class Neutralisation(RunnerOptions options, SandboxUids uids, Action<string> say)
{
    public async Task<NeutralizationReport> RunAsync(Guid projectId, string database, string odooVersion, string releaseDir, string baseUrl,
        CancellationToken ct)
    {
        var server = options.Instances.Database ?? throw new InvalidOperationException($"this runner has no database server for Odoo ({OdooDatabaseServer.ConnectionKey})");
        if (Neutralizer.OdooNeutralizes(odooVersion))
        {
            say($"Neutralising {database} with odoo-bin neutralize");
            await OdooNeutralizeAsync(server, projectId, database, releaseDir, ct);
        }
        else say($"Neutralising {database} with OdooOps' SQL (Odoo {odooVersion} has no neutralize command)");
        var report = await new Neutralizer(server).NeutralizeAsync(projectId, production: false, database, odooVersion, baseUrl, ct);
        foreach (var line in report.Lines()) say(line);
        if (!report.Passed) throw new BackupException($"the neutralised database failed its check: {report.Failures}");
        return report;
    }

    /// <summary><c>odoo-bin neutralize -d DB</c> as the project's role, in a sandbox of its own (the release read-only, no network).</summary>
    async Task OdooNeutralizeAsync(OdooDatabaseServer server, Guid projectId, string database, string releaseDir, CancellationToken ct)
    {
        if (options.OdooBin is not { Length: > 0 } odooBin) throw new InvalidOperationException($"Odoo is not installed on this runner ({EmbeddedRunner.OdooBinKey}).");
        if (!options.Sandbox.Enabled) throw new InvalidOperationException("odoo-bin neutralize runs tenant code (the modules' neutralize.sql): this runner runs unsandboxed.");
        var id = Guid.NewGuid();
        var settings = options.Sandbox with { ExtraReadOnlyPaths = [.. options.Sandbox.ExtraReadOnlyPaths, Path.GetDirectoryName(Path.GetFullPath(odooBin))!] };
        await using var sandbox = await BuildSandbox.CreateAsync(settings, uids, options.WorkDir, id, ct);
        var workspace = Directory.CreateDirectory(Path.Combine(Path.GetFullPath(options.WorkDir), "neutralize", id.ToString("D"))).FullName;
        try
        {
            await sandbox.OwnAsync(workspace, ct);
            var arguments = new List<string> { "neutralize", "--database", database };
            var addons = InstanceLaunch.AddonsPath(odooBin, releaseDir);
            if (addons.Count > 0) arguments.AddRange(["--addons-path", string.Join(',', addons)]);
            var run = sandbox.Run(workspace, network: false, [releaseDir]) with { Binds = server.SocketBinds };
            var result = await SessionProcess.RunAsync(
                new ProcessCommand(odooBin, arguments, workspace) { Environment = new Dictionary<string, string>(server.OdooEnvironment(projectId, production: false)) },
                line => say($"odoo: {line.Text}"), ProcessOptions.Default with { Sandbox = run, InheritedVariables = [] }, ct);
            if (result.Outcome == StepOutcome.Cancelled) throw new OperationCanceledException(ct);
            if (!result.Succeeded) throw new BackupException($"odoo-bin neutralize failed (exit code {result.ExitCode})");
        }
        finally
        {
            WorkspaceFolder.Delete(workspace);
        }
    }
}
