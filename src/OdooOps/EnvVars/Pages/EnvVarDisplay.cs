namespace OdooOps.EnvVars.Pages;

/// <summary>How the environment page names things: a variable in a link ("staging:SMTP_PASSWORD"), and its stage.</summary>
internal static class EnvVarDisplay
{
    public static string Key(string stage, string name) => $"{stage}:{name}";

    /// <summary>A "stage:NAME" from a link, when both parts are what a stage and a name may be (so only those reach the page).</summary>
    public static (string Stage, string Name)? Parse(string? key) =>
        key?.Split(':') is [var stage, var name] && EnvVarRules.Stages.Contains(stage)
        && name.Length is > 0 and <= EnvVarRules.MaxNameLength && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')
            ? (stage, name) : null;

    /// <summary>The page's words after a redirect: fixed ones, and a variable's name as the link gave it (letters, digits, _).</summary>
    public static string? Notice(string? saved, string? removed) =>
        Parse(saved) is { } s ? $"{s.Name} is saved on {s.Stage}: builds queued from now on get it."
        : Parse(removed) is { } r ? $"{r.Name} is removed from {r.Stage}: builds queued from now on run without it."
        : null;
}
