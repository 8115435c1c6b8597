using Dapper;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Cli.Client;

/// <summary>
/// The CLI counterparts of the Members, Audit log and Advisories pages, as processes against a live server:
/// `odooops members …`, `odooops audit list|export`, `odooops advisories show|suppress|unsuppress|resolve`.
/// </summary>
public sealed class TeamVerbTests(PostgresCluster cluster) : IAsyncLifetime, IDisposable
{
    readonly CliSandbox _sandbox = new();
    LiveServer _server = null!;
    Guid _org, _project;
    string _owner = "", _viewer = "";

    public async ValueTask InitializeAsync()
    {
        _server = await LiveServer.StartAsync(cluster, "teamcli");
        _org = await Accounts.CreateOrgAsync(_server.Owner, "acme");
        _owner = await Accounts.CreateTokenAsync(_server.Owner, await Accounts.CreateUserAsync(_server.Owner, "boss@acme.test", _org, "owner"));
        _viewer = await Accounts.CreateTokenAsync(_server.Owner, await Accounts.CreateUserAsync(_server.Owner, "val@acme.test", _org, "viewer"));
        _project = await Accounts.CreateProjectAsync(_server.Owner, _org, "erp");
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    public void Dispose() => _sandbox.Dispose();

    Task<CliRunner.Result> Run(string token, params string[] args) =>
        _sandbox.RunAsync(args, env: new Dictionary<string, string> { ["ODOOOPS_URL"] = _server.Url, ["ODOOOPS_TOKEN"] = token });

    static CliRunner.Result Ok(CliRunner.Result r)
    {
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Output}{r.Error}");
        return r;
    }

    [Fact]
    public async Task Members_are_listed_invited_withdrawn_re_roled_and_removed_and_the_last_owner_stays()
    {
        Assert.Contains("val@acme.test", Ok(await Run(_owner, "members", "list")).Output);
        Assert.Contains("Invited pat@elsewhere.test to acme as developer", Ok(await Run(_owner, "members", "add", "pat@elsewhere.test", "--role", "developer")).Output);
        var invitation = (Ok(await Run(_owner, "members", "invitations")).Output.Split('\n').Single(l => l.Contains("pat@elsewhere.test")).Split(' ', StringSplitOptions.RemoveEmptyEntries))[0];
        Assert.Contains("Withdrew", Ok(await Run(_owner, "members", "withdraw", invitation)).Output);

        Assert.Contains("val@acme.test joined project erp as developer", Ok(await Run(_owner, "members", "add", "val@acme.test", "--role", "developer", "--project", "erp")).Output);
        Assert.Contains("val@acme.test is now tester in acme", Ok(await Run(_owner, "members", "role", "VAL@acme.test", "--role", "tester")).Output);
        Assert.Contains("last owner and cannot be demoted", CliSandbox.OneLineError(await Run(_owner, "members", "role", "boss@acme.test", "--role", "admin")));
        Assert.Contains("Forbidden", CliSandbox.OneLineError(await Run(_viewer, "members", "add", "x@y.test", "--role", "viewer")));
        Assert.Contains("Removed val@acme.test from project erp", Ok(await Run(_owner, "members", "remove", "val@acme.test", "--project", "erp")).Output);

        await using var conn = await Accounts.OpenAsync(_server.Owner);
        Assert.Equal("tester", await conn.ExecuteScalarAsync<string>(
            "select m.role from registry.org_members m join registry.users u on u.id = m.user_id where u.email = 'val@acme.test'"));
        Assert.Equal(0L, await conn.ExecuteScalarAsync<long>("select count(*) from ops.project_members"));
    }

    [Fact]
    public async Task The_audit_log_is_listed_page_by_page_and_exported_with_filters()
    {
        await using (var conn = await Accounts.OpenAsync(_server.Owner))
            await conn.ExecuteAsync("""
                insert into ops.audit_log (org_id, actor, action, target_type, target_id)
                select @_org, 'system', 'cli.test', 'thing', case when g = 1 then '=1+1' else 't' || g end from generate_series(1, 5) g
                """, new { _org });

        var page = Ok(await Run(_owner, "audit", "list", "--action", "cli.*", "--limit", "3"));
        Assert.Equal(3, page.Output.Split('\n').Count(l => l.Contains("cli.test")));
        var cursor = System.Text.RegularExpressions.Regex.Match(page.Error, @"--cursor (\d+)").Groups[1].Value;
        Assert.Equal(2, Ok(await Run(_owner, "audit", "list", "--action", "cli.*", "--limit", "3", "--cursor", cursor)).Output.Split('\n').Count(l => l.Contains("cli.test")));

        var file = Path.Combine(_sandbox.Home, "audit.csv");
        Ok(await Run(_owner, "audit", "export", "--action", "cli.test", "-o", file));
        var lines = (await File.ReadAllTextAsync(file)).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(6, lines.Length);
        Assert.Contains(",'=1+1,", lines[^1]);

        Assert.Contains("from", CliSandbox.OneLineError(await Run(_owner, "audit", "list", "--from", "last week")));
        Assert.Contains("Forbidden", CliSandbox.OneLineError(await Run(_viewer, "audit", "list")));
    }

    [Fact]
    public async Task An_advisory_is_shown_with_its_history_suppressed_unsuppressed_and_resolved()
    {
        Guid id;
        await using (var conn = await Accounts.OpenAsync(_server.Owner))
            id = await conn.ExecuteScalarAsync<Guid>("""
                insert into ops.advisories (project_id, rule, fingerprint, severity, title, remediation)
                values (@_project, 'cpu_high', 'cpu_high:cli', 'critical', 'CPU high on main', 'Add workers') returning id
                """, new { _project });

        Assert.Contains("Forbidden", CliSandbox.OneLineError(await Run(_viewer, "advisories", "resolve", id.ToString())));
        Assert.Contains("suppressed until 2099-02-01 00:00Z", Ok(await Run(_owner, "advisories", "suppress", id.ToString(), "--until", "2099-01-31", "--reason", "Waiting for RAM")).Output);
        Assert.Contains("is open", Ok(await Run(_owner, "advisories", "unsuppress", id.ToString())).Output);
        Assert.Contains("is resolved", Ok(await Run(_owner, "advisories", "resolve", id.ToString())).Output);

        var show = Ok(await Run(_viewer, "advisories", "show", id.ToString())).Output;
        Assert.Contains("What to do: Add workers", show);
        foreach (var line in new[] { "opened", "suppressed", "unsuppressed", "resolved" })
            Assert.Contains(line, show);
        Assert.Contains("Waiting for RAM", show);
        Assert.Contains("boss@acme.test", show);
        Assert.Contains(id.ToString(), Ok(await Run(_viewer, "advisories", "list", "--org", "acme", "--status", "all", "--rule", "cpu_high")).Output);
        Assert.Contains("No advisory", CliSandbox.OneLineError(await Run(_viewer, "advisories", "show", Guid.NewGuid().ToString())));
    }
}
