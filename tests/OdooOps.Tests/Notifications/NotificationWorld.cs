using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Notifications;

/// <summary>
/// One real server (Kestrel on loopback, its delivery worker running) for a test class: organisation "acme" with project
/// "erp" (main in production, staging, feature-x) and an owner, admin, developer and viewer, each with an API token;
/// organisation "globex" with its own admin and project. Channels may point at loopback receivers here
/// (OPS_NOTIFY_ALLOW_PRIVATE_TARGETS=1, the one setting tests need), an instance is announced down as soon as the worker
/// sees it (no grace: NotificationDownTests covers the grace on a manual clock), and links start at http://ops.example.test.
/// </summary>
public sealed class NotificationWorld(PostgresCluster cluster) : IAsyncLifetime
{
    // http: an https public URL would make the session cookie Secure, which the console tests (plain http) could not send back.
    public const string PublicUrl = "http://ops.example.test";
    public LiveServer Server { get; private set; } = null!;
    public Guid Acme { get; private set; }
    public Guid Globex { get; private set; }
    public Guid Erp { get; private set; }
    public Guid GlobexProject { get; private set; }
    readonly Dictionary<string, string> _tokens = [];

    /// <summary>Everything the server logged, at every level.</summary>
    public RecordingLoggerProvider Logs { get; } = new();

    public NpgsqlConnectionStringBuilder Owner => Server.Owner;

    public async ValueTask InitializeAsync()
    {
        Server = await LiveServer.StartAsync(cluster, "notify", new Dictionary<string, string?>
        {
            ["OPS_NOTIFY_ALLOW_PRIVATE_TARGETS"] = "1",
            ["OPS_NOTIFY_DOWN_GRACE_SECONDS"] = "0",
            ["OPS_PUBLIC_URL"] = PublicUrl,
        }, b =>
        {
            b.Logging.AddProvider(Logs);
            b.Logging.AddFilter<RecordingLoggerProvider>(null, LogLevel.Trace);
        });
        Acme = await Accounts.CreateOrgAsync(Owner, "acme");
        Globex = await Accounts.CreateOrgAsync(Owner, "globex");
        Erp = await Accounts.CreateProjectAsync(Owner, Acme, "erp");
        GlobexProject = await Accounts.CreateProjectAsync(Owner, Globex, "gx");
        foreach (var role in new[] { "owner", "admin", "developer", "viewer" })
        {
            var user = await Accounts.CreateUserAsync(Owner, $"{role}@acme.test", Acme, role);
            _tokens[role] = await Accounts.CreateTokenAsync(Owner, user);
            if (role == "admin") _tokens["read"] = await Accounts.CreateTokenAsync(Owner, user, "read");
        }
        _tokens["globex"] = await Accounts.CreateTokenAsync(Owner, await Accounts.CreateUserAsync(Owner, "admin@globex.test", Globex, "admin"));
    }

    /// <summary>An API client with the token of "owner", "admin", "developer", "viewer" (of acme), "globex" (its admin) or "read" (acme's admin, read scope).</summary>
    public HttpClient Api(string who) => new HttpClient { BaseAddress = new Uri(Server.Url) }.WithToken(_tokens[who]);

    public string Token(string who) => _tokens[who];

    public string ChannelsUrl(Guid? org = null) => $"/api/ops/orgs/{org ?? Acme}/notification-channels";

    /// <summary>Adds a channel through the API as acme's admin; fails the test unless it is created.</summary>
    public async Task<JsonElement> AddChannelAsync(object body, Guid? org = null, string who = "admin")
    {
        using var api = Api(who);
        var response = await api.PostAsJsonAsync(ChannelsUrl(org), body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, text);
        return JsonDocument.Parse(text).RootElement;
    }

    public async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var conn = await Accounts.OpenAsync(Owner);
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    public async Task ExecuteAsync(string sql, object? args = null)
    {
        await using var conn = await Accounts.OpenAsync(Owner);
        await conn.ExecuteAsync(sql, args);
    }

    /// <summary>Waits (generously) until a delivery reaches a final status; answers it as the owner sees it.</summary>
    public async Task<(string Status, int Attempts, int? Code, string? Error)> DeliveryAsync(Guid deliveryId, params string[] until)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while (true)
        {
            await using var conn = await Accounts.OpenAsync(Owner);
            var row = await conn.QuerySingleAsync<(string, int, int?, string?)>(
                "select status, attempts, response_code, error from ops.notification_deliveries where id = @deliveryId", new { deliveryId });
            if (until.Length == 0 ? row.Item1 != "pending" : until.Contains(row.Item1)) return row;
            await Task.Delay(100, deadline.Token);
        }
    }

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}
