using System.Text.Json;

namespace OdooOps.Cli;

/// <summary>
/// The client verbs' settings: the server URL and a personal access token, kept in
/// $XDG_CONFIG_HOME/odooops/config.json (else ~/.config/odooops/config.json), readable by the user alone (0600 in a
/// 0700 folder). ODOOOPS_URL and ODOOOPS_TOKEN override the file.
/// </summary>
internal static class ClientConfig
{
    public const string UrlVariable = "ODOOOPS_URL";
    public const string TokenVariable = "ODOOOPS_TOKEN";
    public const string DefaultUrl = Server.ServerApp.DefaultUrls;

    /// <param name="TokenId">Known when `login` created the token, so `logout` can revoke it.</param>
    public sealed record Stored(string? Url, string? Token, Guid? TokenId);

    public sealed record Effective(string Url, string? Token);

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public static string FilePath
    {
        get
        {
            var xdg = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
            var root = string.IsNullOrEmpty(xdg)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config")
                : xdg;
            return Path.Combine(root, "odooops", "config.json");
        }
    }

    public static Stored Load()
    {
        var path = FilePath;
        if (!File.Exists(path)) return new Stored(null, null, null);
        try { return JsonSerializer.Deserialize<Stored>(File.ReadAllText(path), Json) ?? new Stored(null, null, null); }
        catch (JsonException e) { throw new InvalidOperationException($"{path} is not valid JSON ({e.Message}); fix or delete it, then run odooops login."); }
    }

    /// <summary>Written to a 0600 temporary file and renamed, so the token is never readable by others, not even briefly.</summary>
    public static void Save(Stored settings)
    {
        var path = FilePath;
        var dir = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var temp = Path.Combine(dir, $".config.json.{Environment.ProcessId}.tmp");
        var options = new FileStreamOptions
        {
            Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        using (var stream = new FileStream(temp, options))
            JsonSerializer.Serialize(stream, settings, Json);
        File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite); // also when the file pre-existed
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>
    /// URL: flag, then ODOOOPS_URL, then the file, then the default. Token: ODOOOPS_TOKEN, else the stored token —
    /// but only for the URL it was issued by, so pointing the CLI elsewhere never sends that token to another server.
    /// </summary>
    public static Effective Resolve(string? urlFlag = null)
    {
        var stored = Load();
        var url = Normalize(FirstOf(urlFlag, Environment.GetEnvironmentVariable(UrlVariable), stored.Url) ?? DefaultUrl);
        var token = FirstOf(Environment.GetEnvironmentVariable(TokenVariable))
                    ?? (stored.Url is not null && Normalize(stored.Url) == url ? stored.Token : null);
        return new Effective(url, token);
    }

    public static string Normalize(string url)
    {
        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new ArgumentException($"'{url}' is not an http:// or https:// URL.");
        return uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
    }

    static string? FirstOf(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
}
