using Microsoft.Extensions.Configuration;

namespace OdooOps.Configuration;

/// <summary>
/// Settings come from appsettings.json, then the environment (OPS_DATABASE_URL, OPS_DATA_DIR, …), then flags —
/// the usual ASP.NET Core order, later sources winning. Keys are the environment names, also in appsettings.json.
/// </summary>
internal static class OpsConfiguration
{
    public const string DatabaseUrl = "OPS_DATABASE_URL";
    public const string DataDir = "OPS_DATA_DIR";
    public const string DemoPassword = "OPS_DEMO_PASSWORD";

    public static IConfiguration Build(IDictionary<string, string?>? flags = null) =>
        new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddInMemoryCollection((flags ?? new Dictionary<string, string?>()).Where(kv => kv.Value is not null))
            .Build();

    /// <summary>A whole number of days (1–36500) from <paramref name="key"/>, or <paramref name="fallback"/> when unset;
    /// anything else throws a one-line message naming the key.</summary>
    public static int Days(IConfiguration config, string key, int fallback)
    {
        var text = config[key];
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        return int.TryParse(text.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var days) && days is >= 1 and <= 36500
            ? days
            : throw new InvalidOperationException($"{key}: '{text}' is not a whole number of days between 1 and 36500.");
    }

    /// <summary>A whole number from <paramref name="key"/> between <paramref name="min"/> and <paramref name="max"/>, or
    /// <paramref name="fallback"/> when unset; anything else throws a one-line message naming the key.</summary>
    public static long WholeNumber(IConfiguration config, string key, long fallback, long min, long max)
    {
        var text = config[key];
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        return long.TryParse(text.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new InvalidOperationException($"{key}: '{text}' is not a whole number between {min} and {max}.");
    }

    /// <summary>Where OdooOps keeps its embedded database, secrets and backups when nothing else is said.</summary>
    public static string ResolveDataDir(IConfiguration config)
    {
        var configured = config[DataDir];
        if (!string.IsNullOrWhiteSpace(configured)) return Path.GetFullPath(configured);
        // root's home is not searchable by the postgres user, so root keeps data under /var/lib.
        if (Database.PostgresBinaries.IsRoot) return "/var/lib/odooops";
        var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        var root = string.IsNullOrEmpty(xdg)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share")
            : xdg;
        return Path.Combine(root, "odooops");
    }
}
