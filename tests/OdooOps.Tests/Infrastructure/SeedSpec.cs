using System.Text.RegularExpressions;

namespace OdooOps.Tests.Infrastructure;

/// <summary>
/// The original specification (shared/seed/…): its SQL and curl blocks are contracts, so tests run them as written.
/// Found by walking up from the test binaries to the folder that holds shared/ beside the repository.
/// </summary>
public static partial class SeedSpec
{
    const string RelativePath = "shared/seed/000_0a84124d8ac0743c.txt";

    public static string Text { get; } = File.ReadAllText(Locate());

    static string Locate()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, RelativePath);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"The seed specification {RelativePath} was not found above {AppContext.BaseDirectory}.");
    }

    /// <summary>The fenced ```sql blocks under the heading that starts with <paramref name="heading"/>.</summary>
    public static IReadOnlyList<string> SqlBlocks(string heading)
    {
        var start = Text.IndexOf(heading, StringComparison.Ordinal);
        if (start < 0) throw new InvalidOperationException($"Heading '{heading}' not found in the seed.");
        var next = Text.IndexOf("\n### ", start + heading.Length, StringComparison.Ordinal);
        var section = next < 0 ? Text[start..] : Text[start..next];
        return [.. SqlFence().Matches(section).Select(m => m.Groups[1].Value)];
    }

    /// <summary>Splits a block into statements, each with the comment lines that follow it (where the seed says what to save).</summary>
    public static IReadOnlyList<(string Sql, string After)> Statements(string block)
    {
        var result = new List<(string, string)>();
        var current = new List<string>();
        var lines = block.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.TrimStart().StartsWith("--") && current.Count == 0) continue;
            current.Add(line);
            if (!line.TrimEnd().EndsWith(';')) continue;
            var after = new List<string>();
            while (i + 1 < lines.Length && lines[i + 1].TrimStart().StartsWith("--")) after.Add(lines[++i]);
            result.Add((string.Join('\n', current).Trim(), string.Join('\n', after)));
            current.Clear();
        }
        return result;
    }

    [GeneratedRegex("```sql\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex SqlFence();
}
