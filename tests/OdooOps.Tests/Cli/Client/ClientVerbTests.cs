using System.Net;
using System.Text.Json;
using Dapper;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Cli.Client;

/// <summary>One running server (real Kestrel) with an org, an admin, a viewer and a project, shared by the client-verb tests.</summary>
public sealed class ClientServerFixture(PostgresCluster cluster) : IAsyncLifetime
{
    public LiveServer Server { get; private set; } = null!;
    public string AdminToken { get; private set; } = "";
    public string ViewerToken { get; private set; } = "";
    public Guid ProjectId { get; private set; }

    public async ValueTask InitializeAsync()
    {
        Server = await LiveServer.StartAsync(cluster, "cliclient");
        var org = await Accounts.CreateOrgAsync(Server.Owner, "acme");
        var admin = await Accounts.CreateUserAsync(Server.Owner, "admin@acme.test", org, "admin");
        var viewer = await Accounts.CreateUserAsync(Server.Owner, "viewer@acme.test", org, "viewer");
        AdminToken = await Accounts.CreateTokenAsync(Server.Owner, admin);
        ViewerToken = await Accounts.CreateTokenAsync(Server.Owner, viewer);
        ProjectId = await Accounts.CreateProjectAsync(Server.Owner, org, "erp");
    }

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>`odooops login|logout|projects|branches` against a live server, with a sandboxed config folder.</summary>
public sealed class ClientVerbTests(ClientServerFixture fx) : IClassFixture<ClientServerFixture>, IDisposable
{
    readonly CliSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    Dictionary<string, string> As(string token) => new() { ["ODOOOPS_URL"] = fx.Server.Url, ["ODOOOPS_TOKEN"] = token };

    [Fact]
    public async Task Login_with_a_password_stores_a_working_token_readable_by_the_user_alone_and_logout_revokes_it()
    {
        var r = await _sandbox.RunAsync(["login", "--url", fx.Server.Url, "--email", "admin@acme.test", "--password-stdin"], stdin: Accounts.Password + "\n");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("Signed in", r.Output);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_sandbox.ConfigFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(_sandbox.ConfigFile)!));
        using var stored = JsonDocument.Parse(File.ReadAllText(_sandbox.ConfigFile));
        Assert.Equal(fx.Server.Url.TrimEnd('/'), stored.RootElement.GetProperty("url").GetString());
        var token = stored.RootElement.GetProperty("token").GetString()!;
        Assert.DoesNotContain(token, r.Output + r.Error); // stored, not printed

        using var http = new HttpClient { BaseAddress = new Uri(fx.Server.Url) };
        http.WithToken(token);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/ops/me")).StatusCode);
        await using (var conn = await Accounts.OpenAsync(fx.Server.Owner))
            Assert.StartsWith("odooops CLI on ", await conn.ExecuteScalarAsync<string>("select name from ops.api_tokens where token_prefix = @p", new { p = token[..12] }));

        // The stored token is what the client verbs use.
        var list = await _sandbox.RunAsync(["projects", "list"]);
        Assert.True(list.ExitCode == 0, list.Error);
        Assert.Contains("erp", list.Output);

        // Signing in again replaces the token and revokes the one the first login made.
        var again = await _sandbox.RunAsync(["login", "--email", "admin@acme.test", "--password-stdin"], stdin: Accounts.Password + "\n");
        Assert.True(again.ExitCode == 0, again.Error);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/ops/me")).StatusCode);
        var second = JsonDocument.Parse(File.ReadAllText(_sandbox.ConfigFile)).RootElement.GetProperty("token").GetString()!;
        http.WithToken(second);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/ops/me")).StatusCode);

        var logout = await _sandbox.RunAsync(["logout"]);
        Assert.True(logout.ExitCode == 0, logout.Error);
        Assert.Contains("revoked", logout.Output);
        Assert.False(JsonDocument.Parse(File.ReadAllText(_sandbox.ConfigFile)).RootElement.TryGetProperty("token", out _));
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/ops/me")).StatusCode);
        Assert.Contains("not signed in: run odooops login", CliSandbox.OneLineError(await _sandbox.RunAsync(["projects", "list"])));
    }

    [Fact]
    public async Task Login_errors_are_one_line()
    {
        var wrong = await _sandbox.RunAsync(["login", "--url", fx.Server.Url, "--email", "admin@acme.test", "--password-stdin"], stdin: "not the password\n");
        Assert.Contains("Wrong email or password", CliSandbox.OneLineError(wrong));
        Assert.False(File.Exists(_sandbox.ConfigFile));

        var badToken = await _sandbox.RunAsync(["login", "--url", fx.Server.Url, "--token", "oo_pat_not-a-real-token"]);
        Assert.Contains("refused the token", CliSandbox.OneLineError(badToken));
        var noTerminal = await _sandbox.RunAsync(["login", "--url", fx.Server.Url, "--email", "admin@acme.test"]);
        Assert.Contains("--password-stdin", CliSandbox.OneLineError(noTerminal));
    }

    [Fact]
    public async Task Login_with_a_token_verifies_it_and_environment_variables_override_the_file()
    {
        var r = await _sandbox.RunAsync(["login", "--url", fx.Server.Url, "--token", fx.ViewerToken]);
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("viewer@acme.test", r.Output);

        // ODOOOPS_TOKEN wins over the stored (viewer) token: the admin may create, the viewer may not.
        var asViewer = await _sandbox.RunAsync(["projects", "create", "--org", "acme", "--name", "Viewer Try", "--repo-url", "https://git.example/v.git"]);
        Assert.Contains("Only organisation owners and admins", CliSandbox.OneLineError(asViewer));
        var asAdmin = await _sandbox.RunAsync(["projects", "create", "--org", "acme", "--name", "Env Admin", "--repo-url", "https://git.example/e.git"],
            new Dictionary<string, string> { ["ODOOOPS_TOKEN"] = fx.AdminToken });
        Assert.True(asAdmin.ExitCode == 0, asAdmin.Error);

        // ODOOOPS_URL elsewhere: the stored token belongs to its own server and is not sent anywhere else.
        var elsewhere = await _sandbox.RunAsync(["projects", "list"], new Dictionary<string, string> { ["ODOOOPS_URL"] = "http://127.0.0.1:9" });
        Assert.Contains("not signed in", CliSandbox.OneLineError(elsewhere));
    }

    [Fact]
    public async Task Projects_list_and_create_as_a_table_and_as_json()
    {
        var created = await _sandbox.RunAsync(["projects", "create", "--org", "acme", "--name", "Shop Front", "--repo-url", "https://git.example/shop.git",
            "--odoo-version", "18.0", "--json"], As(fx.AdminToken));
        Assert.True(created.ExitCode == 0, created.Error);
        using var project = JsonDocument.Parse(created.Output);
        Assert.Equal("shop-front", project.RootElement.GetProperty("slug").GetString());
        Assert.Equal("18.0", project.RootElement.GetProperty("runtime_version").GetString());

        var table = await _sandbox.RunAsync(["projects", "list", "--org", "acme"], As(fx.AdminToken));
        Assert.True(table.ExitCode == 0, table.Error);
        var lines = table.Output.TrimEnd().Split('\n');
        Assert.Matches("^ORG +SLUG +NAME +ODOO +PRODUCTION +LAST BUILD +ADVISORIES$", lines[0]);
        Assert.DoesNotContain("\u001b[", table.Output); // no colours when stdout is not a terminal
        var erp = lines.Single(l => l.Contains(" erp "));
        Assert.Matches(@"^acme +erp +Project erp +19\.0 +main +— +0$", erp);
        Assert.Equal(lines[0].IndexOf("SLUG", StringComparison.Ordinal), erp.IndexOf("erp", StringComparison.Ordinal)); // aligned

        var json = await _sandbox.RunAsync(["projects", "list", "--json"], As(fx.AdminToken));
        using var doc = JsonDocument.Parse(json.Output);
        var slugs = doc.RootElement.GetProperty("projects").EnumerateArray().Select(p => p.GetProperty("slug").GetString()).ToList();
        Assert.Contains("erp", slugs);
        Assert.Contains("shop-front", slugs);

        var duplicate = await _sandbox.RunAsync(["projects", "create", "--org", "acme", "--name", "Again", "--slug", "erp", "--repo-url", "https://git.example/a.git"], As(fx.AdminToken));
        Assert.Contains("slug 'erp' is already used", CliSandbox.OneLineError(duplicate));
        var noOrg = await _sandbox.RunAsync(["projects", "list", "--org", "nope"], As(fx.AdminToken));
        Assert.Contains("org: No such organisation", CliSandbox.OneLineError(noOrg));
    }

    [Fact]
    public async Task Branches_list_and_a_move_to_production_through_the_cli()
    {
        var table = await _sandbox.RunAsync(["branches", "list", "--project", "erp"], As(fx.ViewerToken));
        Assert.True(table.ExitCode == 0, table.Error);
        var lines = table.Output.TrimEnd().Split('\n');
        Assert.Matches("^BRANCH +STAGE +LAST BUILD +UPDATED$", lines[0]);
        Assert.Matches("^main +production ", lines[1]);

        var json = await _sandbox.RunAsync(["branches", "list", "--project", fx.ProjectId.ToString(), "--json"], As(fx.ViewerToken));
        using var doc = JsonDocument.Parse(json.Output);
        Assert.Equal(["main", "staging", "feature-x"],
            doc.RootElement.GetProperty("branches").EnumerateArray().Select(b => b.GetProperty("name").GetString()).ToArray());

        // A viewer may not; the API's refusal comes through as one line.
        var refused = await _sandbox.RunAsync(["branches", "move", "--project", "erp", "--branch", "staging", "--stage", "production"], As(fx.ViewerToken));
        Assert.Contains("developer role", CliSandbox.OneLineError(refused));

        var moved = await _sandbox.RunAsync(["branches", "move", "--project", "erp", "--branch", "staging", "--stage", "production"], As(fx.AdminToken));
        Assert.True(moved.ExitCode == 0, moved.Error);
        Assert.Contains("Moved staging from staging to production in erp; main moved to staging.", moved.Output);
        await using var conn = await Accounts.OpenAsync(fx.Server.Owner);
        Assert.Equal("main=staging,staging=production", await conn.ExecuteScalarAsync<string>(
            "select string_agg(name || '=' || stage, ',' order by name) from ops.branches where project_id = @ProjectId and name in ('main', 'staging')", new { fx.ProjectId }));

        var back = await _sandbox.RunAsync(["branches", "move", "--project", "erp", "--branch", "main", "--stage", "production", "--json"], As(fx.AdminToken));
        Assert.True(back.ExitCode == 0, back.Error);
        Assert.True(JsonDocument.Parse(back.Output).RootElement.GetProperty("is_production").GetBoolean());

        Assert.Contains("--stage must be one of", CliSandbox.OneLineError(await _sandbox.RunAsync(["branches", "move", "--project", "erp", "--branch", "main", "--stage", "prod"], As(fx.AdminToken))));
        Assert.Contains("No branch 'nope'", CliSandbox.OneLineError(await _sandbox.RunAsync(["branches", "move", "--project", "erp", "--branch", "nope", "--stage", "staging"], As(fx.AdminToken))));
        Assert.Contains("No project 'ghost'", CliSandbox.OneLineError(await _sandbox.RunAsync(["branches", "list", "--project", "ghost"], As(fx.AdminToken))));
    }
}
