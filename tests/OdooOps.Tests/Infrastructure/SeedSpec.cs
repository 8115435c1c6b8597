using System.Text.RegularExpressions;

namespace OdooOps.Tests.Infrastructure;

/// <summary>
/// The original specification's SQL and curl blocks are contracts, so tests run them as written. They run from the
/// project's own verbatim copy (SeedSpec.md, embedded), so a clone without the specification beside it runs them
/// too; <see cref="Original"/> is the specification itself when it is there, for the test that keeps the two equal.
/// </summary>
public static partial class SeedSpec
{
    const string OriginalPath = "shared/seed/000_0a84124d8ac0743c.txt";

    /// <summary>The copy: an introduction, then the specification's headings, each with the blocks kept from under it.</summary>
    public static string Text { get; } = ReadCopy();

    /// <summary>The specification's file, found by walking up from the test binaries to a shared/ folder; null in a clone without it.</summary>
    public static string? OriginalFile { get; } = Locate();

    /// <summary>The specification's text (null when <see cref="OriginalFile"/> is).</summary>
    public static string? Original { get; } = OriginalFile is { } path ? Normalize(File.ReadAllText(path)) : null;

    static string ReadCopy()
    {
        using var stream = typeof(SeedSpec).Assembly.GetManifestResourceStream("SeedSpec.md")
            ?? throw new InvalidOperationException("SeedSpec.md is not embedded in the test assembly.");
        using var reader = new StreamReader(stream);
        return Normalize(reader.ReadToEnd());
    }

    // A checkout may turn LF into CRLF; the blocks are compared and run with LF, as the specification has them.
    static string Normalize(string text) => text.Replace("\r\n", "\n");

    static string? Locate()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, OriginalPath);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>The part of <paramref name="text"/> from the heading that starts with <paramref name="heading"/> to the next one.</summary>
    public static string Section(string heading, string? text = null)
    {
        text ??= Text;
        var start = text.IndexOf(heading, StringComparison.Ordinal);
        if (start < 0) throw new InvalidOperationException($"Heading '{heading}' not found in the seed.");
        var next = text.IndexOf("\n### ", start + heading.Length, StringComparison.Ordinal);
        return next < 0 ? text[start..] : text[start..next];
    }

    /// <summary>The fenced ```sql blocks under the heading that starts with <paramref name="heading"/>.</summary>
    public static IReadOnlyList<string> SqlBlocks(string heading) =>
        [.. SqlFence().Matches(Section(heading)).Select(m => m.Groups[1].Value)];

    /// <summary>Every fenced block of the copy, fences included, with the heading it sits under.</summary>
    public static IReadOnlyList<(string Heading, string Block)> CopiedBlocks()
    {
        var result = new List<(string, string)>();
        foreach (Match heading in HeadingLine().Matches(Text))
            foreach (Match block in AnyFence().Matches(Section(heading.Value)))
                result.Add((heading.Value, block.Value));
        return result;
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

    [GeneratedRegex("^```[a-z]*\\n.*?^```$", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex AnyFence();

    [GeneratedRegex("^### .+$", RegexOptions.Multiline)]
    private static partial Regex HeadingLine();
}
