using System.Text.Json;
using Dapper;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Cli.Client;

/// <summary>`odooops builds trigger|list` against a live server.</summary>
public sealed class BuildVerbTests(ClientServerFixture fx) : IClassFixture<ClientServerFixture>, IDisposable
{
    readonly CliSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    Dictionary<string, string> As(string token) => new() { ["ODOOOPS_URL"] = fx.Server.Url, ["ODOOOPS_TOKEN"] = token };

    [Fact]
    public async Task Trigger_queues_once_and_list_shows_it()
    {
        var first = await _sandbox.RunAsync(["builds", "trigger", "--project", "erp", "--branch", "staging", "--commit", "cafe01", "--json"], env: As(fx.AdminToken));
        Assert.True(first.ExitCode == 0, first.Error);
        using var build = JsonDocument.Parse(first.Output);
        Assert.Equal("queued", build.RootElement.GetProperty("status").GetString());
        var id = build.RootElement.GetProperty("id").GetGuid();

        var again = await _sandbox.RunAsync(["builds", "trigger", "--project", "erp", "--branch", "staging", "--commit", "cafe01"], env: As(fx.AdminToken));
        Assert.Equal(0, again.ExitCode);
        Assert.Contains($"Build {id} of erp/staging is queued (cafe01).", again.Output);
        await using (var conn = await Accounts.OpenAsync(fx.Server.Owner))
            Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*) from ops.builds where commit_sha = 'cafe01'"));

        var list = await _sandbox.RunAsync(["builds", "list", "--project", "erp", "--status", "queued"], env: As(fx.ViewerToken));
        Assert.Equal(0, list.ExitCode);
        Assert.Contains(id.ToString()[..8], list.Output);
        Assert.Contains("cafe01", list.Output);
    }

    [Fact]
    public async Task A_viewer_cannot_trigger_and_gets_one_line()
    {
        var r = await _sandbox.RunAsync(["builds", "trigger", "--project", "erp", "--branch", "feature-x"], env: As(fx.ViewerToken));
        Assert.NotEqual(0, r.ExitCode);
        var line = Assert.Single(r.Error.Trim().Split('\n'));
        Assert.StartsWith("error: ", line);
        Assert.Contains("viewer", line);
    }
}
