using System.CommandLine;
using System.Text.RegularExpressions;
using Dapper;
using OdooOps.Auth;

namespace OdooOps.Cli;

/// <summary>`odooops token create`: a personal access token for a user, made by the administrator (e.g. for CI).</summary>
public static partial class TokenCommand
{
    public static Command Create()
    {
        var token = new Command("token", "Manage personal access tokens (as the database owner).");
        token.Add(CreateToken());
        return token;
    }

    static Command CreateToken()
    {
        var email = new Option<string>("--email") { Description = "Whose token it is.", Required = true };
        var scope = new Option<string>("--scope") { Description = "read or write.", Required = true };
        var expires = new Option<string>("--expires") { Description = "Lifetime: Nd (days), Nh (hours) or never.", Required = true };
        var name = new Option<string?>("--name") { Description = "A name to tell it apart in token lists (default: \"created by odooops token create\")." };
        var command = new Command("create", "Create a personal access token for a user; the token is printed once (on stdout, alone).")
            { email, scope, expires, name };
        return DbCommand.WithDatabase(command, async (parse, target, ct) =>
        {
            var userEmail = AdminSupport.ValidEmail(parse.GetValue(email));
            var tokenScope = parse.GetValue(scope);
            if (tokenScope is not ("read" or "write")) throw new ArgumentException($"--scope must be read or write (got '{tokenScope}').");
            var lifetime = ParseLifetime(parse.GetValue(expires));
            var tokenName = parse.GetValue(name)?.Trim() ?? "created by odooops token create";
            if (tokenName.Length is < 1 or > 100) throw new ArgumentException("--name must be 1 to 100 characters.");

            await using var conn = await AdminSupport.OpenAsync(target.Owner, ct);
            await using var tx = await conn.BeginTransactionAsync(ct);
            var user = await AdminSupport.FindUserAsync(conn, tx, userEmail) ?? throw new ArgumentException($"No user with the email {userEmail}.");
            if (!user.IsActive) throw new ArgumentException($"{user.Email} is deactivated; a token for them would not work.");

            var secret = AccessTokens.Create(AccessTokens.PersonalPrefix);
            var (id, expiresAt) = await conn.QuerySingleAsync<(Guid, DateTime?)>("""
                insert into ops.api_tokens (user_id, name, token_prefix, token_hash, scope, expires_at)
                values (@Id, @tokenName, @prefix, @hash, @tokenScope, now() + @hours * interval '1 hour')
                returning id, expires_at
                """, new { user.Id, tokenName, prefix = AccessTokens.Preview(secret), hash = AccessTokens.Hash(secret), tokenScope, hours = (int?)lifetime?.TotalHours }, tx);
            await AdminSupport.WriteAuditAsync(conn, tx, await AdminSupport.AnyOrgOfAsync(conn, tx, user.Id), "token.create", "api_token", id,
                new { email = user.Email, name = tokenName, scope = tokenScope, token_prefix = AccessTokens.Preview(secret), expires_at = expiresAt });
            await tx.CommitAsync(ct);

            // The token alone on stdout, so `TOKEN=$(odooops token create …)` works; the description goes to stderr.
            Console.Error.WriteLine($"Created {tokenScope} token '{tokenName}' for {user.Email}, " +
                                    (expiresAt is { } at ? $"expires {at:yyyy-MM-dd HH:mm} UTC" : "never expires") + ". It is shown once:");
            Console.WriteLine(secret);
            return 0;
        });
    }

    /// <summary>Nd (1–3650 days), Nh (1–87600 hours) or never (null).</summary>
    public static TimeSpan? ParseLifetime(string? value)
    {
        if (value == "never") return null;
        var m = LifetimePattern().Match(value ?? "");
        if (m.Success && int.TryParse(m.Groups[1].Value, out var n) && n > 0)
        {
            var span = m.Groups[2].Value == "d" ? TimeSpan.FromDays(n) : TimeSpan.FromHours(n);
            if (span <= TimeSpan.FromDays(3650)) return span;
        }
        throw new ArgumentException($"--expires must be Nd, Nh (at most 10 years) or never (got '{value}').");
    }

    [GeneratedRegex("^([0-9]{1,6})([dh])$")] private static partial Regex LifetimePattern();
}
