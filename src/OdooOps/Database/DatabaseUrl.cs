using Npgsql;

namespace OdooOps.Database;

/// <summary>
/// Turns what users paste into a connection string: either a libpq URL
/// (<c>postgresql://user:pass@host:5432/db?sslmode=require</c>, as Supabase and most hosts print it)
/// or an Npgsql key=value connection string.
/// </summary>
internal static class DatabaseUrl
{
    public static NpgsqlConnectionStringBuilder Parse(string value)
    {
        if (string.IsNullOrWhiteSpace(value))
            throw new FormatException("The database URL is empty.");
        value = value.Trim();
        if (value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) ||
            value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
            return FromUrl(value);
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(value);
            if (string.IsNullOrEmpty(builder.Host))
                throw new FormatException("The database connection string names no Host.");
            return builder;
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"The database URL is neither a postgresql:// URL nor a connection string ({e.Message}).");
        }
    }

    static NpgsqlConnectionStringBuilder FromUrl(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
            throw new FormatException("The database URL is not a valid postgresql://user:password@host:port/database URL.");
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host.Trim('[', ']'),
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')) is { Length: > 0 } db ? db : "postgres",
        };
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':');
            builder.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon >= 0) builder.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        }
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var key = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            var val = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..]);
            switch (key.ToLowerInvariant())
            {
                case "sslmode":
                    builder.SslMode = val.ToLowerInvariant() switch
                    {
                        "disable" => SslMode.Disable,
                        "allow" => SslMode.Allow,
                        "prefer" => SslMode.Prefer,
                        "require" => SslMode.Require,
                        "verify-ca" => SslMode.VerifyCA,
                        "verify-full" => SslMode.VerifyFull,
                        _ => throw new FormatException($"Unknown sslmode '{val}' in the database URL."),
                    };
                    break;
                case "application_name": builder.ApplicationName = val; break;
                case "connect_timeout": builder.Timeout = int.Parse(val); break;
                case "options": builder.Options = val; break;
                default:
                    // Npgsql understands many libpq keywords under its own names; pass unknown ones through.
                    try { builder[key] = val; }
                    catch (ArgumentException) { throw new FormatException($"Unknown parameter '{key}' in the database URL."); }
                    break;
            }
        }
        return builder;
    }

    /// <summary>A form safe to print: the password is masked.</summary>
    public static string Describe(NpgsqlConnectionStringBuilder builder) =>
        $"postgresql://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}";
}
