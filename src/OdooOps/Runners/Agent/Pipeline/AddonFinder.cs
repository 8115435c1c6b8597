using System.Text.RegularExpressions;

namespace OdooOps.Runners.Agent.Pipeline;

/// <summary>
/// Finds the Odoo addons of a checked-out repository: folders holding a manifest, found by walking down from the root.
/// It skips hidden folders, node_modules, __pycache__ and symbolic links (OCA's setup/ folders link back to the
/// addons), does not look inside an addon, and stops <see cref="MaxDepth"/> folders down. A manifest that cannot be
/// read becomes an <see cref="AddonProblem"/> so one broken addon does not hide the others.
/// </summary>
internal static partial class AddonFinder
{
    public const int MaxDepth = 6;
    const long MaxManifestBytes = 1024 * 1024;
    static readonly string[] Skipped = ["node_modules", "__pycache__"];

    // Odoo imports an addon as odoo.addons.<folder>: the folder name must be a Python identifier.
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex ModuleName();

    public static AddonScan Find(string repoDir)
    {
        var root = new DirectoryInfo(repoDir);
        if (!root.Exists) throw new DirectoryNotFoundException($"no such folder: {repoDir}");
        var modules = new List<OdooModule>();
        var problems = new List<AddonProblem>();
        if (ManifestIn(root) is { } rootManifest)
            problems.Add(new(rootManifest.Name, "a manifest at the repository root is not used: put the addon in its own folder"));
        Walk(root, root, 1, modules, problems);

        var kept = new List<OdooModule>();
        foreach (var group in modules.GroupBy(m => m.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var byPath = group.OrderBy(m => m.Path, StringComparer.Ordinal).ToList();
            kept.Add(byPath[0]);
            problems.AddRange(byPath.Skip(1).Select(m =>
                new AddonProblem(m.Path, $"another addon named '{m.Name}' is at {byPath[0].Path}: this one is not used")));
        }
        return new AddonScan(kept, problems.OrderBy(p => p.Path, StringComparer.Ordinal).ToList());
    }

    static void Walk(DirectoryInfo root, DirectoryInfo dir, int depth, List<OdooModule> modules, List<AddonProblem> problems)
    {
        DirectoryInfo[] children;
        try { children = dir.GetDirectories(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add(new(Relative(root, dir), $"cannot read the folder: {e.Message}"));
            return;
        }
        foreach (var child in children.OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            if (child.Name.StartsWith('.') || Skipped.Contains(child.Name) || child.LinkTarget is not null) continue;
            if (ManifestIn(child) is { } manifest)
            {
                if (Read(root, child, manifest, problems) is { } module) modules.Add(module);
            }
            else if (depth < MaxDepth) Walk(root, child, depth + 1, modules, problems);
        }
    }

    static FileInfo? ManifestIn(DirectoryInfo dir) =>
        new[] { OdooManifest.FileName, OdooManifest.LegacyFileName }
            .Select(name => new FileInfo(Path.Combine(dir.FullName, name)))
            .FirstOrDefault(file => file.Exists);

    static OdooModule? Read(DirectoryInfo root, DirectoryInfo dir, FileInfo manifestFile, List<AddonProblem> problems)
    {
        var path = Relative(root, dir);
        var file = Relative(root, manifestFile);
        string? problem = null;
        if (!ModuleName().IsMatch(dir.Name)) problem = "the folder name is not a valid Odoo module name (letters, digits and _)";
        else if (path.Contains(',')) problem = "the path holds a comma, which Odoo's addons path cannot express";
        else if (manifestFile.LinkTarget is not null) problem = "the manifest is a symbolic link: commit the file itself";
        else if (manifestFile.Length > MaxManifestBytes) problem = $"the manifest is larger than {MaxManifestBytes / 1024} KiB";
        if (problem is not null)
        {
            problems.Add(new(path, problem));
            return null;
        }
        try
        {
            var manifest = OdooManifest.Parse(File.ReadAllText(manifestFile.FullName));
            return new OdooModule(dir.Name, path, manifest.Title, manifest.Version, manifest.Depends, manifest.Installable);
        }
        catch (Exception e) when (e is OdooManifestException or IOException or UnauthorizedAccessException)
        {
            problems.Add(new(file, e.Message));
            return null;
        }
    }

    static string Relative(DirectoryInfo root, FileSystemInfo item) =>
        Path.GetRelativePath(root.FullName, item.FullName).Replace('\\', '/');
}
