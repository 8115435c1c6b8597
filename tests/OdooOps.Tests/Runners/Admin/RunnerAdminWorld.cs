using System.Net;
using System.Net.Http.Json;
using Dapper;
using OdooOps.Auth;
using OdooOps.Runners.Protocol;
using OdooOps.Runners.Agent;
using OdooOps.Runners.Admin;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Runners.Admin;

/// <summary>
/// A real server on a Kestrel loopback port (runners register over real HTTP) with two organisations: acme, with a
/// user in each role plus a system administrator who is also acme's admin, and globex with its owner. Each user has
/// a write token; acme's admin also a read-scoped one. Runners and builds are made as the database owner.
/// </summary>
public sealed class RunnerAdminWorld(PostgresCluster cluster) : IAsyncLifetime
{
    public static readonly string[] RolesOfA = ["owner", "admin", "developer", "viewer"];

    public LiveServer Server { get; private set; } = null!;
    public Uri Url => new(Server.Url);
    public Guid OrgA { get; private set; }
    public Guid OrgB { get; private set; }
    public Guid ProjectA { get; private set; }
    public Dictionary<string, string> Tokens { get; } = [];
    public Dictionary<string, Guid> Users { get; } = [];
    int _counter;

    public async ValueTask InitializeAsync()
    {
        Server = await LiveServer.StartAsync(cluster, "runadmin");
        OrgA = await Accounts.CreateOrgAsync(Server.Owner, "acme");
        OrgB = await Accounts.CreateOrgAsync(Server.Owner, "globex");
        foreach (var role in RolesOfA) await AddUserAsync(role, $"{role}@acme.test", OrgA, role);
        await AddUserAsync("sysadmin", "sysadmin@acme.test", OrgA, "admin");
        await ExecuteAsync("update registry.users set is_system_admin = true where id = @id", new { id = Users["sysadmin"] });
        await AddUserAsync("b-owner", "owner@globex.test", OrgB, "owner");
        Tokens["admin-read"] = await Accounts.CreateTokenAsync(Server.Owner, Users["admin"], "read");
        ProjectA = await Accounts.CreateProjectAsync(Server.Owner, OrgA, "shop");
    }

    async Task AddUserAsync(string actor, string email, Guid org, string role)
    {
        Users[actor] = await Accounts.CreateUserAsync(Server.Owner, email, org, role);
        Tokens[actor] = await Accounts.CreateTokenAsync(Server.Owner, Users[actor]);
    }

    public string Unique(string prefix) => $"{prefix}-{Interlocked.Increment(ref _counter)}";

    /// <summary>An API client as <paramref name="actor"/> (a key of <see cref="Tokens"/>), or anonymous.</summary>
    public HttpClient Client(string? actor)
    {
        var client = new HttpClient { BaseAddress = Url };
        return actor is null ? client : client.WithToken(Tokens[actor]);
    }

    readonly Dictionary<string, HttpClient> _console = [];

    /// <summary>A console client signed in (session cookie) as <paramref name="actor"/>; one sign-in per user (they are throttled).</summary>
    public async Task<HttpClient> ConsoleAsync(string actor)
    {
        if (_console.TryGetValue(actor, out var existing)) return existing;
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = Url };
        var email = actor switch { "sysadmin" => "sysadmin@acme.test", "b-owner" => "owner@globex.test", _ => $"{actor}@acme.test" };
        Assert.Equal(HttpStatusCode.Redirect, (await Accounts.SignInAsync(client, email)).StatusCode);
        return _console[actor] = client;
    }

    /// <summary>A registration token made through the API by acme's admin.</summary>
    public async Task<NewRegistrationToken> CreateTokenAsync(int? hours = null, Guid? org = null, string actor = "admin")
    {
        using var client = Client(actor);
        var response = await client.PostAsJsonAsync($"/api/ops/orgs/{org ?? OrgA}/runner-tokens", new { expires_in_hours = hours });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<NewRegistrationToken>(RunnerProtocol.Json))!;
    }

    /// <summary>Registers a runner over the runner protocol, as `odooops runner --token oo_reg_…` does.</summary>
    public Task<RunnerProtocol.Registered> RegisterAsync(string registrationToken, string? name = null, int capacity = 1, params string[] labels) =>
        DispatchClient.RegisterAsync(Url, new RunnerProtocol.RegisterRequest(registrationToken, name ?? Unique("runner"), labels, capacity, "9.9.9"));

    public sealed record InsertedRunner(Guid Id, string Token);

    /// <summary>A runner row made as the database owner (org null: a shared runner), with its token.</summary>
    public async Task<InsertedRunner> InsertRunnerAsync(Guid? org, string name, DateTime? lastSeen = null, bool disabled = false)
    {
        var token = AccessTokens.Create(RunnerProtocol.RunnerTokenPrefix);
        var id = await ScalarAsync<Guid>("""
            insert into ops.runners (org_id, name, token_hash, version, last_seen_at, disabled_at)
            values (@org, @name, @hash, '1.0', @lastSeen, case when @disabled then now() end) returning id
            """, new { org, name, hash = AccessTokens.Hash(token), lastSeen, disabled });
        return new InsertedRunner(id, token);
    }

    /// <summary>Queues a build of acme's project (the enqueue trigger puts it in the run queue) with a commit of its own.</summary>
    public Task<Guid> QueueBuildAsync() =>
        ScalarAsync<Guid>("""
            insert into ops.builds (project_id, branch_id, trigger, commit_sha)
            select project_id, id, 'manual', @sha from ops.branches where project_id = @ProjectA and name = 'main' returning id
            """, new { ProjectA, sha = $"{Interlocked.Increment(ref _counter):x8}" });

    public async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var conn = await Accounts.OpenAsync(Server.Owner);
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    public async Task ExecuteAsync(string sql, object? args = null)
    {
        await using var conn = await Accounts.OpenAsync(Server.Owner);
        await conn.ExecuteAsync(sql, args);
    }

    public sealed record AuditRow(string Action, Guid? OrgId, Guid? ActorUserId, string TargetType, string Json);

    /// <summary>The audit rows about one target, oldest first, each with the whole row as JSON to search for secrets.</summary>
    public async Task<List<AuditRow>> AuditAsync(Guid targetId)
    {
        await using var conn = await Accounts.OpenAsync(Server.Owner);
        return [.. await conn.QueryAsync<AuditRow>("""
            select action, org_id, actor_user_id, target_type, to_jsonb(a)::text as json
              from ops.audit_log a where target_id = @id order by id
            """, new { id = targetId.ToString() })];
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _console.Values) client.Dispose();
        await Server.DisposeAsync();
    }
}
