using System.Net;
using System.Text.RegularExpressions;
using OdooOps.Auth;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Auth;

/// <summary>
/// An attacker who knows the admin's email guesses passwords from their own address (through the proxy, which tells the
/// server who the client is). They lock themselves out; the admin, from another address, still signs in; and the locked
/// account answers exactly as an email that does not exist.
/// </summary>
public sealed class SignInLockoutTests(PostgresCluster cluster)
{
    const string Attacker = "198.51.100.66";
    const string Admin = "203.0.113.5";

    static async Task<(HttpStatusCode Status, string Body)> SignInAsync(HttpClient http, string from, string email, string password)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/ops/auth/token") { Content = ApiWorld.Body(new { email, password }) };
        request.Headers.Add("X-Forwarded-For", from);
        var response = await http.SendAsync(request);
        return (response.StatusCode, Regex.Replace(await response.Content.ReadAsStringAsync(), "\"trace_id\":\"[^\"]*\"", ""));
    }

    [Fact]
    public async Task Nobody_can_lock_the_admin_out_from_outside()
    {
        await using var server = await LiveServer.StartAsync(cluster, "lockout", new Dictionary<string, string?> { ["OPS_TRUSTED_PROXIES"] = "127.0.0.1" });
        var org = await Accounts.CreateOrgAsync(server.Owner, "lockout");
        await Accounts.CreateUserAsync(server.Owner, "admin@lockout.test", org, "owner");
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };

        var unknown = await SignInAsync(http, Attacker, "nobody@lockout.test", "guess");
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.Status);
        for (var i = 0; i < SignInService.MaxFailuresPerAddress + 2; i++)
            Assert.Equal(unknown, await SignInAsync(http, Attacker, "admin@lockout.test", $"guess-{i}"));
        // Locked for the attacker's address: the right password gets the unknown email's answer, word for word.
        Assert.Equal(unknown, await SignInAsync(http, Attacker, "admin@lockout.test", Accounts.Password));

        Assert.Equal(HttpStatusCode.Created, (await SignInAsync(http, Admin, "admin@lockout.test", Accounts.Password)).Status);
    }
}
