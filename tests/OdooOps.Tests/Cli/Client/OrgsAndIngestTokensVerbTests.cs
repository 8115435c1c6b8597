using Dapper;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Runners;

namespace OdooOps.Tests.Cli.Client;

/// <summary>
/// `odooops orgs list|show|update` (an organisation's name, slug and default Odoo version, refused below admin) and
/// `odooops ingest-tokens list|create|revoke` (the token on stdout once, only its hash kept).
/// </summary>
public sealed class OrgsAndIngestTokensVerbTests(PostgresCluster cluster) : IAsyncLifetime
{
    RunnerWorld _world = null!;
    readonly CliSandbox _sandbox = new();

    public async ValueTask InitializeAsync() => _world = await RunnerWorld.StartAsync(cluster);

    public async ValueTask DisposeAsync()
    {
        _sandbox.Dispose();
        await _world.DisposeAsync();
    }

    async Task<Dictionary<string, string>> AsAsync(string role)
    {
        var user = await Accounts.CreateUserAsync(_world.Owner, $"{role}-{Guid.NewGuid():N}@example.com", _world.OrgId, role);
        return new() { ["ODOOOPS_URL"] = _world.Url.ToString(), ["ODOOOPS_TOKEN"] = await Accounts.CreateTokenAsync(_world.Owner, user), ["NO_COLOR"] = "1" };
    }

    [Fact]
    public async Task An_admin_shows_and_updates_the_organisation_and_a_viewer_is_refused()
    {
        var admin = await AsAsync("admin");
        var shown = await _sandbox.RunAsync(["orgs", "show", "runner-org"], admin);
        Assert.Equal((0, "Org runner-org (runner-org): default Odoo version 19.0; you are admin."), (shown.ExitCode, shown.Output.Trim()));

        var updated = await _sandbox.RunAsync(["orgs", "update", "runner-org", "--name", "Runner Org", "--default-odoo-version", "18.0"], admin);
        Assert.Equal((0, "Runner Org (runner-org): default Odoo version 18.0; you are admin."), (updated.ExitCode, updated.Output.Trim()));

        var viewer = await _sandbox.RunAsync(["orgs", "update", "runner-org", "--name", "Mine"], await AsAsync("viewer"));
        Assert.NotEqual(0, viewer.ExitCode);
        Assert.Contains("needs the admin role", viewer.Error);
        var bad = await _sandbox.RunAsync(["orgs", "update", "runner-org", "--default-odoo-version", "latest"], admin);
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("default_odoo_version", bad.Error);
        await using var conn = await Accounts.OpenAsync(_world.Owner);
        Assert.Equal("Runner Org|18.0", await conn.ExecuteScalarAsync<string>("select name || '|' || default_odoo_version from registry.orgs where id = @OrgId", new { _world.OrgId }));
    }

    [Fact]
    public async Task An_ingest_token_is_printed_once_listed_by_its_preview_and_revoked()
    {
        var owner = await AsAsync("owner");
        var created = await _sandbox.RunAsync(["ingest-tokens", "create", "-p", "app", "--name", "exporter"], owner);
        Assert.Equal(0, created.ExitCode);
        var token = created.Output.Trim();
        Assert.Matches("^oo_ing_[0-9A-Za-z]{43}$", token);

        var listed = await _sandbox.RunAsync(["ingest-tokens", "list", "-p", "app"], owner);
        Assert.Equal(0, listed.ExitCode);
        Assert.Contains(token[..12] + "…", listed.Output);
        Assert.DoesNotContain(token, listed.Output);
        Assert.Contains("active", listed.Output);

        await using var conn = await Accounts.OpenAsync(_world.Owner);
        var id = await conn.ExecuteScalarAsync<Guid>("select id from ops.ingest_tokens where project_id = @ProjectId and name = 'exporter'", new { _world.ProjectId });
        var revoked = await _sandbox.RunAsync(["ingest-tokens", "revoke", "-p", "app", id.ToString()], owner);
        Assert.Equal(0, revoked.ExitCode);
        Assert.NotNull(await conn.ExecuteScalarAsync<DateTime?>("select revoked_at from ops.ingest_tokens where id = @id", new { id }));
        var developer = await _sandbox.RunAsync(["ingest-tokens", "list", "-p", "app"], await AsAsync("developer"));
        Assert.NotEqual(0, developer.ExitCode);
    }
}
