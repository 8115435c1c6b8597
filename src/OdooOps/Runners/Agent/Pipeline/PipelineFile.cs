using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace OdooOps.Runners.Agent.Pipeline;

/// <summary>
/// Reads a repository's <c>.odooops.yml</c>. Built on YamlDotNet's representation model so every node keeps its line:
/// each problem is a <see cref="PipelineFileException"/> naming where it is, e.g. "line 4, column 5: steps[1].run is required".
/// </summary>
internal static partial class PipelineFile
{
    public const string FileName = ".odooops.yml";
    public const int MaxSteps = 100;
    public const int MaxNameLength = 100;
    public const long MaxFileBytes = 1024 * 1024;
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(24);

    // The schema nests four deep (root, steps, step, env); a deeper file is wrong anyway, and refusing it before
    // building nodes keeps a hostile "[[[[…" from exhausting the stack of the recursive node loader.
    const int MaxNesting = 16;

    static readonly string[] RootKeys = ["timeout", "steps"];
    static readonly string[] StepKeys = ["name", "run", "timeout", "env", "continue_on_error"];

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex EnvName();

    /// <summary>The pipeline of <paramref name="repoDir"/>, or null when the repository has no <see cref="FileName"/>.</summary>
    public static PipelineDefinition? TryLoad(string repoDir)
    {
        var file = new FileInfo(Path.Combine(repoDir, FileName));
        if (!file.Exists) return null;
        // A link could point anywhere on the runner; error messages quote keys, so never read through one.
        if (file.LinkTarget is not null) throw new PipelineFileException(1, 1, $"{FileName} is a symbolic link: commit the file itself");
        if (file.Length > MaxFileBytes) throw new PipelineFileException(1, 1, $"{FileName} is larger than {MaxFileBytes / 1024} KiB");
        return Parse(File.ReadAllText(file.FullName));
    }

    public static PipelineDefinition Parse(string yamlText)
    {
        var stream = new YamlStream();
        try
        {
            Precheck(yamlText);
            stream.Load(new StringReader(yamlText));
        }
        catch (YamlException e)
        {
            throw new PipelineFileException(Line(e.Start), Column(e.Start), Describe(e));
        }
        if (stream.Documents.Count == 0) throw new PipelineFileException(1, 1, "the file is empty: steps is required");
        if (stream.Documents.Count > 1) throw Error(stream.Documents[1].RootNode, "only one YAML document is allowed");
        var root = stream.Documents[0].RootNode;
        if (root is not YamlMappingNode map) throw Error(root, "the file must be a mapping with a steps list");

        TimeSpan? timeout = null;
        YamlNode? steps = null;
        foreach (var (key, value) in Entries(map, "", RootKeys))
        {
            if (key == "timeout") timeout = Timeout(value, "timeout");
            else steps = value;
        }
        if (steps is null) throw Error(map, "steps is required");
        return new PipelineDefinition(timeout, Steps(steps));
    }

    static IReadOnlyList<PipelineStep> Steps(YamlNode node)
    {
        if (node is not YamlSequenceNode list) throw Error(node, "steps must be a list");
        if (list.Children.Count == 0) throw Error(node, "steps must list at least one step");
        if (list.Children.Count > MaxSteps) throw Error(list.Children[MaxSteps], $"at most {MaxSteps} steps are allowed");
        var steps = new List<PipelineStep>();
        var names = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < list.Children.Count; i++)
        {
            var step = Step(list.Children[i], $"steps[{i}]");
            if (names.TryGetValue(step.Name, out var first))
                throw Error(NameNode((YamlMappingNode)list.Children[i]), $"steps[{i}].name '{step.Name}' is already used by steps[{first}]");
            names[step.Name] = i;
            steps.Add(step);
        }
        return steps;
    }

    static YamlNode NameNode(YamlMappingNode step) => step.Children.First(e => (e.Key as YamlScalarNode)?.Value == "name").Value;

    static PipelineStep Step(YamlNode node, string path)
    {
        if (node is not YamlMappingNode map) throw Error(node, $"{path} must be a mapping with name and run");
        string? name = null, run = null;
        TimeSpan? timeout = null;
        IReadOnlyDictionary<string, string> env = PipelineStep.NoEnv;
        var continueOnError = false;
        foreach (var (key, value) in Entries(map, path + ".", StepKeys))
        {
            var at = $"{path}.{key}";
            switch (key)
            {
                case "name": name = Name(value, at); break;
                case "run": run = Run(value, at); break;
                case "timeout": timeout = Timeout(value, at); break;
                case "env": env = Env(value, at); break;
                default: continueOnError = Bool(value, at); break;
            }
        }
        if (name is null) throw Error(map, $"{path}.name is required");
        if (run is null) throw Error(map, $"{path}.run is required");
        return new PipelineStep(name, run, timeout, env, continueOnError);
    }

    static string Name(YamlNode node, string path)
    {
        var name = Text(node, path) ?? throw Error(node, $"{path} is required");
        if (name.Trim().Length == 0) throw Error(node, $"{path} must not be empty");
        if (name.Length > MaxNameLength) throw Error(node, $"{path} is longer than {MaxNameLength} characters");
        if (name.Any(char.IsControl)) throw Error(node, $"{path} must be one line without control characters");
        return name;
    }

    static string Run(YamlNode node, string path)
    {
        var run = Text(node, path) ?? throw Error(node, $"{path} is required");
        if (run.Trim().Length == 0) throw Error(node, $"{path} must not be empty");
        if (run.Contains('\0')) throw Error(node, $"{path} must not contain NUL characters");
        return run;
    }

    static TimeSpan? Timeout(YamlNode node, string path)
    {
        var text = Text(node, path);
        if (text is null) return null;
        if (!DurationText.TryParse(text, out var value))
            throw Error(node, $"{path} '{text}' is not a duration (use {DurationText.Forms})");
        if (value < TimeSpan.FromSeconds(1) || value > MaxTimeout)
            throw Error(node, $"{path} '{text}' must be between 1s and {MaxTimeout.TotalHours:0}h");
        return value;
    }

    static IReadOnlyDictionary<string, string> Env(YamlNode node, string path)
    {
        if (IsNull(node)) return PipelineStep.NoEnv;
        if (node is not YamlMappingNode map) throw Error(node, $"{path} must be a mapping of NAME: value");
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (keyNode, valueNode) in map.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value;
            if (key is null || !EnvName().IsMatch(key))
                throw Error(keyNode, $"{path} key '{key ?? "(not text)"}' is not a valid environment variable name " +
                    "(letters, digits and _, not starting with a digit)");
            // `FOO:` with no value means an empty variable, as in other CI files.
            var value = Text(valueNode, $"{path}.{key}") ?? "";
            if (value.Contains('\0')) throw Error(valueNode, $"{path}.{key} must not contain NUL characters");
            env[key] = value;
        }
        return env;
    }

    static bool Bool(YamlNode node, string path) => Text(node, path) switch
    {
        "true" or "True" or "TRUE" => true,
        "false" or "False" or "FALSE" or null => false,
        _ => throw Error(node, $"{path} must be true or false"),
    };

    /// <summary>A scalar's text (numbers and booleans as written), null for an empty or null scalar.</summary>
    static string? Text(YamlNode node, string path) => node switch
    {
        _ when IsNull(node) => null,
        YamlScalarNode scalar => scalar.Value ?? "",
        YamlSequenceNode => throw Error(node, $"{path} must be a single value, not a list"),
        _ => throw Error(node, $"{path} must be a single value, not a mapping"),
    };

    static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } scalar
        && scalar.Value is null or "" or "~" or "null" or "Null" or "NULL";

    /// <summary>The mapping's entries as (key, value), refusing keys that are not text or not in <paramref name="allowed"/>.</summary>
    static IEnumerable<(string Key, YamlNode Value)> Entries(YamlMappingNode map, string prefix, string[] allowed)
    {
        foreach (var (keyNode, value) in map.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value;
            if (key is null || !allowed.Contains(key))
                throw Error(keyNode, $"unknown key '{prefix}{key ?? "(not text)"}' (allowed: {string.Join(", ", allowed)})");
            yield return (key, value);
        }
    }

    /// <summary>An event-by-event pass before the node loader: refuses deep nesting, and names the line of an alias
    /// without anchor (the loader reports those at line 1).</summary>
    static void Precheck(string yamlText)
    {
        var parser = new Parser(new StringReader(yamlText));
        var depth = 0;
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        while (parser.MoveNext())
        {
            var current = parser.Current!;
            if (current is MappingStart or SequenceStart && ++depth > MaxNesting)
                throw new PipelineFileException(Line(current.Start), Column(current.Start), $"the file nests more than {MaxNesting} levels deep");
            if (current is MappingEnd or SequenceEnd) depth--;
            if (current is NodeEvent { Anchor.IsEmpty: false } node) anchors.Add(node.Anchor.Value);
            if (current is AnchorAlias alias && !anchors.Contains(alias.Value.Value))
                throw new PipelineFileException(Line(current.Start), Column(current.Start), $"YAML syntax error: alias '*{alias.Value}' has no anchor before it");
        }
    }

    static string Describe(YamlException e) => "YAML syntax error: " + e.Message.TrimEnd('.');

    static PipelineFileException Error(YamlNode node, string problem) => new(Line(node.Start), Column(node.Start), problem);
    static int Line(Mark mark) => (int)Math.Max(1, mark.Line);
    static int Column(Mark mark) => (int)Math.Max(1, mark.Column);
}
