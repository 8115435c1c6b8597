using System.Security.Cryptography;
using OdooOps.Runners.Agent.Pipeline;

namespace OdooOps.Deployments;

/// <summary>
/// What a production update does to the database, and why: the rule the runner's default pipeline runs (it installs
/// <see cref="Install"/> and updates <see cref="Update"/>) and the server's dry run shows, computed by this one type.
/// A module is installed when the branch's last successful build did not have it, updated when its manifest version
/// changed (Odoo.sh's rule); a changed requirements.txt is reported too (pip runs it again, and the runner takes a
/// pre-deploy backup for it). Only installable modules count; names in ordinal order.
/// </summary>
internal sealed record DeployPlan(IReadOnlyList<DeployPlan.Change> Install, IReadOnlyList<DeployPlan.Change> Update, int Unchanged,
    bool RequirementsChanged, bool FirstDeploy)
{
    /// <summary>One module's change: its version before (null when new) and now, and the reason in words.</summary>
    public sealed record Change(string Module, string? From, string? To, string Reason);

    /// <summary>Anything for the update to do to the database or its environment.</summary>
    public bool ChangesAnything => Install.Count + Update.Count > 0 || RequirementsChanged;

    /// <param name="modules">The checkout's modules.</param>
    /// <param name="deployed">The modules of the branch's last successful build; null when there is none (all are new).</param>
    /// <param name="requirementsSha256">The checkout's requirements.txt (<see cref="RequirementsSha256"/>), null without one.</param>
    /// <param name="deployedRequirementsSha256">The last successful build's; null when it had none (or is not known).</param>
    internal static DeployPlan Compute(IEnumerable<OdooModule> modules, IReadOnlyList<ModuleVersion>? deployed,
        string? requirementsSha256 = null, string? deployedRequirementsSha256 = null)
    {
        var before = (deployed ?? []).GroupBy(p => p.Name).ToDictionary(g => g.Key, g => g.Last().Version, StringComparer.Ordinal);
        List<Change> install = [], update = [];
        var unchanged = 0;
        foreach (var m in modules.Where(m => m.Installable).OrderBy(m => m.Name, StringComparer.Ordinal))
        {
            if (!before.TryGetValue(m.Name, out var was)) install.Add(new(m.Name, null, m.Version, "new"));
            else if (was != m.Version) update.Add(new(m.Name, was, m.Version, $"version changed {was ?? "(none)"} → {m.Version ?? "(none)"}"));
            else unchanged++;
        }
        var requirementsChanged = deployed is not null && requirementsSha256 != deployedRequirementsSha256
                                  && (requirementsSha256 is not null || deployedRequirementsSha256 is not null);
        return new DeployPlan(install, update, unchanged, requirementsChanged, deployed is null);
    }

    /// <summary>SHA-256 (lower-case hex) of a checkout's requirements.txt, as the runner reports it; null without one.</summary>
    public static string? RequirementsSha256(string checkoutDir)
    {
        var path = Path.Combine(checkoutDir, "requirements.txt");
        if (!File.Exists(path) || new FileInfo(path).LinkTarget is not null) return null;
        using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(file));
    }

    /// <summary>The plan in lines, for a build's log and the CLI.</summary>
    public IEnumerable<string> Describe()
    {
        if (!ChangesAnything)
        {
            yield return "Deploy plan: no module is new or has a new version, requirements.txt unchanged: nothing to update.";
            yield break;
        }
        yield return $"Deploy plan: install {Install.Count}, update {Update.Count}, unchanged {Unchanged}" +
                     (FirstDeploy ? " (nothing deployed before: every module is new)" : "") + ".";
        foreach (var c in Install) yield return $"  install {c.Module} {c.To}: {c.Reason}";
        foreach (var c in Update) yield return $"  update  {c.Module}: {c.Reason}";
        if (RequirementsChanged) yield return "  requirements.txt changed: its packages are installed again";
    }
}
