namespace OdooOps.Runners.Agent.Execution;

/// <summary>
/// Replaces the values of a build's secret variables with *** in its log lines, before they leave the runner. A value
/// of several lines is masked line by line (output arrives a line at a time); values (or lines of them) shorter than
/// <see cref="MinLength"/> characters are left alone, since masking "1" or "on" would garble every line instead of
/// hiding anything.
/// </summary>
internal sealed class SecretMask
{
    public const int MinLength = 4;
    public const string Mask = "***";

    readonly string[] _secrets;

    public SecretMask(IEnumerable<string> values) =>
        _secrets = [.. values
            .SelectMany(v => v.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Where(v => v.Length >= MinLength)
            .Distinct(StringComparer.Ordinal)
            .OrderByDescending(v => v.Length)]; // a secret containing another is masked whole

    public bool IsEmpty => _secrets.Length == 0;

    public string Apply(string line)
    {
        foreach (var secret in _secrets)
            if (line.Contains(secret, StringComparison.Ordinal)) line = line.Replace(secret, Mask, StringComparison.Ordinal);
        return line;
    }
}
