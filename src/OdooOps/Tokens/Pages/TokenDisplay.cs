using System.Globalization;

namespace OdooOps.Tokens.Pages;

/// <summary>How the tokens page words a token's state and expiry; pure functions so they are tested without a server.</summary>
internal static class TokenDisplay
{
    /// <summary>Revoked wins over expired: a revoked token stays revoked whatever its date, and that is what its owner did.</summary>
    public static string Status(TokenInfo token, DateTime nowUtc) =>
        token.RevokedAt is not null ? "revoked"
        : token.ExpiresAt is { } expires && expires <= nowUtc ? "expired"
        : "active";

    public static string StatusTone(string status) => status switch
    {
        "active" => "success",
        "expired" => "warning",
        _ => "neutral",
    };

    /// <summary>"in 5 h", "in 29 days", then a date; past dates read like other times in the console ("3 days ago").</summary>
    public static string Expires(DateTime? expiresUtc, DateTime nowUtc)
    {
        if (expiresUtc is not { } at) return "never";
        var left = at - nowUtc;
        if (left <= TimeSpan.Zero) return Ui.UiFormat.Relative(at, nowUtc);
        return left switch
        {
            { TotalMinutes: < 60 } => $"in {Math.Max(1, (int)Math.Round(left.TotalMinutes))} min",
            { TotalHours: < 24 } => $"in {(int)left.TotalHours} h",
            { TotalDays: < 60 } => $"in {(int)Math.Round(left.TotalDays)} days",
            _ => at.ToString(at.Year == nowUtc.Year ? "d MMM" : "d MMM yyyy", CultureInfo.InvariantCulture),
        };
    }

    /// <summary>The stored prefix ("oo_pat_AbCd3") with an ellipsis, so nobody mistakes it for a whole token.</summary>
    public static string Preview(string tokenPrefix) => tokenPrefix + "…";
}
