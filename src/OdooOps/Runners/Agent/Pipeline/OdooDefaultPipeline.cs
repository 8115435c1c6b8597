namespace OdooOps.Runners.Agent.Pipeline;

/// <summary>A module's version in a past build, to tell which modules a production build has to update.</summary>
internal sealed record ModuleVersion(string Name, string? Version);

/// <summary>
/// The pipeline of a repository without <c>.odooops.yml</c>: install requirements.txt, then one "odoo" step that depends
/// on the branch's stage. Development installs the installable modules with their tests (their dependencies first,
/// without tests, so only the repository's own tests run); staging installs them without tests; production installs
/// new modules and updates those whose version changed since the previous production build. Scripts are bash, run
/// from the repository root.
/// </summary>
internal static class OdooDefaultPipeline
{
    public const string RequirementsStep = "install requirements";
    public const string OdooStep = "odoo";
    public const string Development = "development", Staging = "staging", Production = "production";

    /// <summary>A hung Odoo (a test waiting on a lock, a server that never stops) ends here instead of holding a slot.</summary>
    public static readonly TimeSpan BuildTimeout = TimeSpan.FromHours(3);

    public static PipelineDefinition Build(
        string stage,
        IReadOnlyList<OdooModule> modules,
        bool hasRequirements,
        string? odooBin,
        string database,
        IReadOnlyList<ModuleVersion>? previousProduction = null,
        bool keepDatabase = false,
        string? dataDir = null,
        bool stagingCopy = false)
    {
        if (stage is not (Development or Staging or Production))
            throw new ArgumentException($"unknown stage '{stage}' (development, staging or production)", nameof(stage));
        if (string.IsNullOrWhiteSpace(database)) throw new ArgumentException("a database name is required", nameof(database));
        var steps = new List<PipelineStep>();
        if (hasRequirements) steps.Add(Step(RequirementsStep, "python3 -m pip install -r requirements.txt"));
        steps.Add(Odoo(stage, modules.Where(m => m.Installable).OrderBy(m => m.Name, StringComparer.Ordinal).ToList(),
            string.IsNullOrWhiteSpace(odooBin) ? null : odooBin, database, previousProduction ?? [], keepDatabase, dataDir, stagingCopy));
        return new PipelineDefinition(BuildTimeout, steps);
    }

    static PipelineStep Odoo(string stage, List<OdooModule> modules, string? odooBin, string database, IReadOnlyList<ModuleVersion> previous,
        bool keepDatabase, string? dataDir, bool stagingCopy)
    {
        var what = stage switch { Development => "test", Staging => "install", _ => "update" };
        if (modules.Count == 0)
            return Skip($"No installable Odoo module in this repository: skipping the Odoo {what} step");
        // Which modules a production update installs and updates is the deploy plan's rule (the server's dry run shows it).
        var plan = Deployments.DeployPlan.Compute(modules, previous);
        var fresh = plan.Install.Select(c => c.Module).ToList();
        var changed = plan.Update.Select(c => c.Module).ToList();
        if (stage == Production && fresh.Count + changed.Count == 0)
            return Skip("No module is new or has a new version since the last production build: nothing to update");
        if (odooBin is null)
            return Skip($"Odoo is not installed on this runner (set the runner's odoo-bin path): skipping the Odoo {what} step");

        var script = new OdooScript(odooBin, database, modules, dataDir);
        // Without instances, a development or staging build's database exists for that build only: dropped when the step
        // ends, however it ends (dropdb from postgresql-client, with the same PG* variables Odoo connects with; quietly
        // skipped without it). With instances, the build's instance runs on it; the runner drops it when that retires.
        if (stage != Production && !keepDatabase) script.DropDatabaseOnExit();
        var names = modules.Select(m => m.Name).ToList();
        switch (stage)
        {
            case Development:
                var dependencies = modules.SelectMany(m => m.Depends).Distinct().Except(names).Order(StringComparer.Ordinal).ToList();
                if (dependencies.Count > 0) script.Odoo("-i", List(dependencies), "--stop-after-init");
                script.Odoo("-i", List(names), "--test-enable", "--stop-after-init", "--log-level=test");
                break;
            case Staging when stagingCopy:
                // A copy of production: its modules are updated to this branch's code, new ones installed (-i and -u
                // each ignore what the other acts on).
                script.Odoo("-i", List(names), "-u", List(names), "--stop-after-init");
                break;
            case Staging:
                script.Odoo("-i", List(names), "--stop-after-init");
                break;
            default:
                // Odoo's -u ignores modules that are not installed and -i ignores installed ones: a module new to this
                // repository gets both, so it is installed on a fresh database and updated where it already exists.
                var update = List(fresh.Concat(changed).Order(StringComparer.Ordinal));
                if (fresh.Count > 0) script.Odoo("-i", List(fresh), "-u", update, "--stop-after-init");
                else script.Odoo("-u", update, "--stop-after-init");
                break;
        }
        return Step(OdooStep, script.Text);
    }

    static string List(IEnumerable<string> names) => string.Join(',', names);

    static PipelineStep Step(string name, string run) => new(name, run, null, PipelineStep.NoEnv, false);

    static PipelineStep Skip(string reason) => new(OdooStep, "", null, PipelineStep.NoEnv, false, reason);

    /// <summary>Builds the odoo step's bash script: the addons path, then one odoo-bin line per call.</summary>
    sealed class OdooScript
    {
        readonly List<string> lines = ["set -e"];
        readonly string prefix;
        readonly string databaseName;

        public OdooScript(string odooBin, string database, IReadOnlyList<OdooModule> modules, string? dataDir)
        {
            databaseName = database;
            var parents = modules.Select(m => m.Path.Contains('/') ? m.Path[..m.Path.LastIndexOf('/')] : ".")
                .Distinct().Order(StringComparer.Ordinal);
            lines.Add("addons_path=" + BashQuoting.Quote(string.Join(',', parents)));
            // A git checkout of Odoo keeps sale, stock… in addons/ next to odoo-bin, and an explicit --addons-path
            // replaces that default; pip installs have no such folder, so it is added only when present.
            var odooDir = Path.GetDirectoryName(odooBin);
            if (!string.IsNullOrEmpty(odooDir))
            {
                var odooAddons = BashQuoting.Quote(odooDir.TrimEnd('/') + "/addons");
                lines.Add($"if [ -d {odooAddons} ]; then addons_path={odooAddons},\"$addons_path\"; fi");
            }
            // --data-dir: the filestore the instance will run with (attachments a module's data files create land there).
            prefix = $"{BashQuoting.Quote(odooBin)} {BashQuoting.Quote("--database=" + database)} --addons-path=\"$addons_path\"" +
                     (dataDir is null ? "" : " " + BashQuoting.Quote("--data-dir=" + dataDir));
        }

        public void DropDatabaseOnExit() =>
            lines.Insert(1, "trap " + BashQuoting.Quote(
                $"command -v dropdb >/dev/null 2>&1 && dropdb --if-exists {BashQuoting.Quote(databaseName)} >/dev/null 2>&1 || true") + " EXIT");

        public void Odoo(params string[] arguments) =>
            lines.Add(prefix + " " + string.Join(' ', arguments.Select(BashQuoting.Quote)));

        public string Text => string.Join('\n', lines) + "\n";
    }
}
