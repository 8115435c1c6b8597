using Dapper;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Cli.Client;

/// <summary>`odooops invitations list|accept|decline`: the real binary against a live server, as the invitee.</summary>
public sealed class InvitationsCommandTests(PostgresCluster cluster) : IAsyncLifetime, IDisposable
{
    readonly CliSandbox _sandbox = new();
    LiveServer _server = null!;
    Guid _org;

    public async ValueTask InitializeAsync()
    {
        _server = await LiveServer.StartAsync(cluster, "invites");
        _org = await Accounts.CreateOrgAsync(_server.Owner, "acme");
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    public void Dispose() => _sandbox.Dispose();

    async Task<(Guid User, string Token)> InviteeAsync(string email)
    {
        var user = await Accounts.CreateUserAsync(_server.Owner, email);
        return (user, await Accounts.CreateTokenAsync(_server.Owner, user));
    }

    async Task<Guid> InviteAsync(string email, string role)
    {
        await using var conn = await Accounts.OpenAsync(_server.Owner);
        return await conn.ExecuteScalarAsync<Guid>(
            "insert into ops.member_invitations (org_id, email, role, expires_at) values (@_org, @email, @role, now() + interval '1 day') returning id",
            new { _org, email, role });
    }

    Task<CliRunner.Result> RunAs(string token, params string[] args) =>
        _sandbox.RunAsync(["invitations", .. args], env: new Dictionary<string, string> { ["ODOOOPS_URL"] = _server.Url, ["ODOOOPS_TOKEN"] = token });

    [Fact]
    public async Task The_invitee_lists_accepts_and_declines()
    {
        var (user, token) = await InviteeAsync("cli@x.test");
        var join = await InviteAsync("cli@x.test", "developer");

        var list = await RunAs(token, "list");
        Assert.True(list.ExitCode == 0, list.Error);
        var row = list.Output.Split('\n').Single(l => l.Contains(join.ToString()));
        Assert.Contains("acme", row);
        Assert.Contains("developer", row);

        var accepted = await RunAs(token, "accept", join.ToString());
        Assert.True(accepted.ExitCode == 0, accepted.Error);
        Assert.Contains("Joined 'acme' as developer.", accepted.Output);
        await using (var conn = await Accounts.OpenAsync(_server.Owner))
            Assert.Equal("developer", await conn.ExecuteScalarAsync<string>(
                "select role from registry.org_members where org_id = @_org and user_id = @user", new { _org, user }));

        var again = await RunAs(token, "accept", join.ToString());
        Assert.NotEqual(0, again.ExitCode);
        Assert.StartsWith("error: ", again.Error.Trim());

        var other = await InviteAsync("cli@x.test", "viewer");
        var declined = await RunAs(token, "decline", other.ToString());
        Assert.True(declined.ExitCode == 0, declined.Error);
        Assert.Contains("No open invitations.", (await RunAs(token, "list")).Error);
    }
}
