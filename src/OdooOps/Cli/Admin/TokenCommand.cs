using System.CommandLine;
using System.Text.RegularExpressions;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Server;
using OdooOps.Tokens;

namespace OdooOps.Cli.Admin;

/// <summary>`odooops token create`: a personal access token for a user, made by the administrator (e.g. for CI).</summary>
internal static partial class TokenCommand
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
            var userEmail = parse.GetValue(email)!.Trim();
            var lifetime = ParseLifetime(parse.GetValue(expires));
            var request = new PersonalTokens.Request(parse.GetValue(name)?.Trim() ?? "created by odooops token create", parse.GetValue(scope), lifetime);
            AdminSupport.Require(new Validation().Email("--email", userEmail).Merge(PersonalTokens.Validate(request, new("--name", "--scope", "--expires"))));

            var (account, token) = await AdminSupport.InTransactionAsync(target.Owner, async (c, t) =>
            {
                var account = await UserAccounts.FindAsync(c, t, userEmail) ?? throw new ArgumentException($"No user with the email {userEmail}.");
                if (!account.IsActive) throw new ArgumentException($"{account.Email} is deactivated; a token for them would not work.");
                return (account, await PersonalTokens.CreateAsync(c, t, Actor.System, account.Id, request));
            }, ct);

            // The token alone on stdout, so `TOKEN=$(odooops token create …)` works; the description goes to stderr.
            Console.Error.WriteLine($"Created {token.Scope} token '{token.Name}' for {account.Email}, " +
                                    (token.ExpiresAt is { } at ? $"expires {at:yyyy-MM-dd HH:mm} UTC" : "never expires") + ". It is shown once:");
            Console.WriteLine(token.Token);
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
