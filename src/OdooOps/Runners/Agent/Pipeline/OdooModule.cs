namespace OdooOps.Runners.Agent.Pipeline;

/// <summary>An addon found in a repository: <see cref="Name"/> is its folder name, <see cref="Path"/> its folder relative
/// to the repository root with '/' separators, <see cref="Title"/> the manifest's 'name'.</summary>
internal sealed record OdooModule(
    string Name,
    string Path,
    string? Title,
    string? Version,
    IReadOnlyList<string> Depends,
    bool Installable);

/// <summary>An addon folder that could not be used; <see cref="Path"/> is relative to the repository root.</summary>
internal sealed record AddonProblem(string Path, string Message)
{
    public override string ToString() => $"{Path}: {Message}";
}

/// <summary>What <see cref="AddonFinder"/> found: the usable modules sorted by name, and the folders it had to leave out.</summary>
internal sealed record AddonScan(IReadOnlyList<OdooModule> Modules, IReadOnlyList<AddonProblem> Problems);
