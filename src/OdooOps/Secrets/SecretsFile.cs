namespace OdooOps.Secrets;

/// <summary>An env file of KEY=value lines, created 0600: what `secrets generate` writes and `serve` reads from the data dir.</summary>
internal static class SecretsFile
{
    public const string FileName = "secrets.env";

    public static string DefaultPath(string dataDir) => Path.Combine(dataDir, FileName);

    public static Dictionary<string, string> Read(string path)
    {
        var values = new Dictionary<string, string>();
        if (!File.Exists(path)) return values;
        foreach (var raw in File.ReadAllLines(path))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            if (line.StartsWith("export ")) line = line[7..].TrimStart();
            var eq = line.IndexOf('=');
            if (eq <= 0) continue;
            values[line[..eq].Trim()] = line[(eq + 1)..].Trim().Trim('"', '\'');
        }
        return values;
    }

    /// <summary>Writes (or updates) keys, keeping other lines, into a file that is 0600 before any secret is in it.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, string> values)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var lines = File.Exists(path) ? File.ReadAllLines(path).ToList() : ["# OdooOps secrets — keep this file private (mode 0600)."];
        foreach (var (key, value) in values)
        {
            var i = lines.FindIndex(l => l.TrimStart().StartsWith(key + "=", StringComparison.Ordinal));
            if (i >= 0) lines[i] = $"{key}={value}";
            else lines.Add($"{key}={value}");
        }
        PrivateFile.Write(path, string.Join('\n', lines) + "\n");
    }
}
