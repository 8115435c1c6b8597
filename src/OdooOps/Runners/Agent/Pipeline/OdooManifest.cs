namespace OdooOps.Runners.Agent.Pipeline;

/// <summary>
/// The fields of an Odoo <c>__manifest__.py</c> that builds use, read with <see cref="PythonLiteral"/> (never executed).
/// <see cref="Values"/> keeps every key for anything else (license, summary…).
/// </summary>
internal sealed record OdooManifest(
    string? Title,
    string? Version,
    IReadOnlyList<string> Depends,
    bool Installable,
    IReadOnlyDictionary<string, object?> Values)
{
    public const string FileName = "__manifest__.py";
    /// <summary>The name before Odoo 10; still read when no <see cref="FileName"/> is present.</summary>
    public const string LegacyFileName = "__openerp__.py";

    /// <exception cref="OdooManifestException">Not a literal dict, or a field of the wrong type.</exception>
    public static OdooManifest Parse(string text)
    {
        object? value;
        try { value = PythonLiteral.Parse(text); }
        catch (PythonLiteralException e) { throw new OdooManifestException(e.Message, e); }
        if (value is not IReadOnlyDictionary<string, object?> dict)
            throw new OdooManifestException("the manifest must be a dict literal ({'name': …, 'depends': [...]})");
        return new OdooManifest(
            Optional<string>(dict, "name", "a string"),
            Optional<string>(dict, "version", "a string"),
            DependsOf(dict),
            Optional<bool?>(dict, "installable", "True or False") ?? true,
            dict);
    }

    static T? Optional<T>(IReadOnlyDictionary<string, object?> dict, string key, string expected) =>
        !dict.TryGetValue(key, out var value) || value is null ? default
        : value is T typed ? Text(typed, key)
        : throw new OdooManifestException($"'{key}' must be {expected}, not {PythonType(value)}");

    /// <summary>A NUL ('\x00') is refused here: the server's text fields cannot take it, so the addon is skipped with the reason.</summary>
    static T Text<T>(T value, string key) =>
        value is string s && Server.NulText.In(s) ? throw new OdooManifestException($"'{key}' must not contain NUL characters") : value;

    static IReadOnlyList<string> DependsOf(IReadOnlyDictionary<string, object?> dict)
    {
        var list = Optional<IReadOnlyList<object?>>(dict, "depends", "a list of module names");
        if (list is null) return [];
        return list.Select(d => Text(d as string ?? throw new OdooManifestException(
            $"'depends' must be a list of module names, but holds {PythonType(d)}"), "depends")).ToList();
    }

    static string PythonType(object? value) => value switch
    {
        null => "None",
        string => "a string",
        bool => "a boolean",
        long => "an int",
        double => "a float",
        IReadOnlyDictionary<string, object?> => "a dict",
        _ => "a list",
    };
}

/// <summary>A manifest that cannot be read: Python syntax outside the literal subset, or a field of the wrong type.</summary>
internal sealed class OdooManifestException(string message, Exception? inner = null) : Exception(message, inner);
