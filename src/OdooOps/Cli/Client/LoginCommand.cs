using System.CommandLine;
using OdooOps.Auth;
using OdooOps.Tokens;

namespace OdooOps.Cli.Client;

/// <summary>`odooops login` / `odooops logout`: get a personal access token from a server and keep it in the user's config.</summary>
internal static class LoginCommand
{
    public static Command Login()
    {
        var url = new Option<string?>("--url") { Description = $"The OdooOps server (default: env {ClientConfig.UrlVariable}, the stored URL, else {ClientConfig.DefaultUrl})." };
        var email = new Option<string?>("--email") { Description = "Your email (asked when omitted)." };
        var token = new Option<string?>("--token") { Description = "Use this personal access token instead of a password (it is verified, then stored)." };
        var stdin = new Option<bool>("--password-stdin") { Description = "Read the password from the first line of stdin (otherwise asked without echo)." };
        var command = new Command("login", "Sign in to an OdooOps server; the token is stored in ~/.config/odooops/config.json (0600).")
            { url, email, token, stdin };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            var stored = ClientConfig.Load();
            var server = ClientConfig.Normalize(parse.GetValue(url) ?? ClientConfig.Resolve().Url);
            string secret, who;
            Guid? tokenId = null;
            if (parse.GetValue(token) is { Length: > 0 } given)
            {
                using var api = new ApiClient(server, given);
                var me = await VerifyAsync(api, ct);
                (secret, who) = (given, me.Email ?? me.Id.ToString());
            }
            else
            {
                var address = parse.GetValue(email) is { Length: > 0 } e ? e.Trim() : SecretInput.Prompt("Email", echo: true, instead: "--email");
                var password = parse.GetValue(stdin) ? SecretInput.ReadStdinLine("password") : SecretInput.Prompt("Password", echo: false, instead: "--password-stdin or --token");
                var uri = new Uri(server);
                if (uri.Scheme == "http" && !uri.IsLoopback)
                    Console.Error.WriteLine($"warning: {uri.Host} is reached over plain HTTP; the password and the token travel unencrypted.");
                using var api = new ApiClient(server, null);
                var created = await api.PostAsync<NewToken>("api/ops/auth/token", new AuthApi.PasswordTokenRequest(
                    address, password, $"odooops CLI on {Environment.MachineName}", "write", 90), ct, anonymous: true);
                (secret, who, tokenId) = (created.Token, address, created.Id);
                Console.Error.WriteLine($"Token {created.TokenPrefix}… (write) expires {created.ExpiresAt:yyyy-MM-dd}.");
            }
            ClientConfig.Save(stored with { Url = server, Token = secret, TokenId = tokenId });
            // Signing in again replaces the token an earlier login created; it should not linger on the server.
            if (stored.TokenId is not null && stored.Token != secret && stored.Url == server) await TryRevokeAsync(stored, ct);
            Console.WriteLine($"Signed in to {server} as {who}; token stored in {ClientConfig.FilePath}.");
            if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(ClientConfig.TokenVariable)))
                Console.Error.WriteLine($"note: {ClientConfig.TokenVariable} is set and takes precedence over the stored token.");
            return 0;
        }));
        return command;
    }

    static async Task<AuthApi.Me> VerifyAsync(ApiClient api, CancellationToken ct)
    {
        try { return await api.GetAsync<AuthApi.Me>("api/ops/me", ct); }
        catch (ApiException e) when (e.Status == System.Net.HttpStatusCode.Unauthorized)
        {
            throw new ApiException(e.Status, $"{api.BaseUrl} refused the token (invalid, expired or revoked)");
        }
    }

    public static Command Logout()
    {
        var command = new Command("logout", "Forget the stored token (and revoke it on the server when `login` created it).");
        command.SetAction((_, ct) => CliCommon.Guard(async () =>
        {
            var stored = ClientConfig.Load();
            if (stored.Token is null)
            {
                Console.WriteLine("Not signed in.");
                return 0;
            }
            var revoked = await TryRevokeAsync(stored, ct) ? " and revoked the token" : "";
            ClientConfig.Save(stored with { Token = null, TokenId = null });
            Console.WriteLine($"Signed out of {stored.Url}: removed the stored token{revoked}.");
            return 0;
        }));
        return command;
    }

    /// <summary>Revokes a token `login` created (its id is known). Best effort: a server that is gone must not keep it on this machine.</summary>
    static async Task<bool> TryRevokeAsync(ClientConfig.Stored stored, CancellationToken ct)
    {
        if (stored is not { TokenId: { } id, Url: { } server, Token: { } token }) return false;
        try
        {
            using var api = new ApiClient(server, token, TimeSpan.FromSeconds(10));
            await api.DeleteAsync($"api/ops/tokens/{id}", ct);
            return true;
        }
        catch (ApiException e)
        {
            Console.Error.WriteLine($"warning: could not revoke the stored token on {server} ({e.Message}).");
            return false;
        }
    }
}
