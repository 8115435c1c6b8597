using OdooOps.Database;

namespace OdooOps.Seed;

/// <summary>
/// Small local git repositories for the demo projects (an Odoo addon and a .odooops.yml on every demo branch), so the
/// demo's queued builds really run on `serve`'s embedded runner instead of failing on an unreachable example URL.
/// Made once under the data dir; without git on the machine the demo keeps its example URLs.
/// </summary>
internal static class DemoRepositories
{
    static readonly string[] Branches = ["main", "staging", "feature/invoicing", "fix/stock-moves"];

    const string Pipeline = """
        # The demo's pipeline: what a real one runs (Odoo's tests, linters…) goes here.
        steps:
          - name: manifests
            run: find addons -name __manifest__.py | sort
          - name: tests
            run: |
              echo "2026-01-01 00:00:00,000 1 INFO demo odoo.modules.loading: loading $ODOOOPS_PROJECT on $ODOOOPS_BRANCH ($ODOOOPS_STAGE)"
              sleep 1
              echo "2026-01-01 00:00:01,000 1 INFO demo odoo.tests.stats: all tests passed"
        """;

    /// <summary>Creates (or finds) one repository per slug under <paramref name="directory"/>; slug → path, or null without git.</summary>
    public static async Task<IReadOnlyDictionary<string, string>?> EnsureAsync(string directory, IEnumerable<(string Slug, string Module, string Version)> projects,
        CancellationToken ct = default)
    {
        var repos = new Dictionary<string, string>();
        try
        {
            foreach (var (slug, module, version) in projects)
            {
                var dir = Path.Combine(directory, slug);
                repos[slug] = dir;
                if (Directory.Exists(Path.Combine(dir, ".git"))) continue;
                Directory.CreateDirectory(Path.Combine(dir, "addons", module));
                await File.WriteAllTextAsync(Path.Combine(dir, ".odooops.yml"), Pipeline, ct);
                await File.WriteAllTextAsync(Path.Combine(dir, "addons", module, "__manifest__.py"), $$"""
                    # A demo addon: OdooOps reads this manifest as data, it never runs it.
                    {
                        'name': '{{module.Replace('_', ' ')}}',
                        'version': '{{version}}.1.0.0',
                        'depends': ['base'],
                        'installable': True,
                    }
                    """, ct);
                await File.WriteAllTextAsync(Path.Combine(dir, "addons", module, "__init__.py"), "", ct);
                await GitAsync(dir, ct, "init", "-q", "-b", "main");
                await GitAsync(dir, ct, "add", "-A");
                await GitAsync(dir, ct, "-c", "user.name=OdooOps demo", "-c", "user.email=demo@odooops.dev", "commit", "-q", "-m", $"{module}: first version");
                foreach (var branch in Branches.Skip(1)) await GitAsync(dir, ct, "branch", branch);
            }
            return repos;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return null; // no git here: the demo keeps its example URLs, and its queued builds wait for a real repository
        }
    }

    static async Task GitAsync(string dir, CancellationToken ct, params string[] args)
    {
        var git = await ProcessRunner.RunAsync("git", ["-C", dir, .. args], null, ct);
        if (git.ExitCode != 0) throw new InvalidOperationException($"git {args[0]} failed: {git.Describe()}");
    }
}
