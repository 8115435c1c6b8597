using System.Net.Http.Headers;
using System.Text;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OdooOps.Database;
using OdooOps.Metrics;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Metrics;

/// <summary>A clock stopped at one instant, to run the seed's curl at the moment the seed was written.</summary>
public sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}

/// <summary>
/// The real server on a Kestrel loopback port and a database of its own (like LiveServer), optionally with extra
/// settings (OPS_RAW_RETENTION_DAYS) or a fixed clock; plus what the ingest tests need: an org and a project with
/// main (production) / staging / feature-x branches, and requests with the ingest header.
/// </summary>
public sealed class IngestServer : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly OpsDatabase _database;

    public NpgsqlConnectionStringBuilder Owner { get; }
    public string Url { get; }
    public HttpClient Http { get; } = new();
    public Guid OrgId { get; private set; }
    public Guid ProjectId { get; private set; }

    IngestServer(WebApplication app, OpsDatabase database, NpgsqlConnectionStringBuilder owner)
    {
        _app = app;
        _database = database;
        Owner = owner;
        Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Http.BaseAddress = new Uri(Url);
    }

    public static async Task<IngestServer> StartAsync(PostgresCluster cluster, IDictionary<string, string?>? settings = null, TimeProvider? clock = null)
    {
        var owner = await cluster.CreateDatabaseAsync("ingest");
        var database = OpsDatabase.Create(await LoginRoles.EnsureAsync(owner));
        var app = TestHosts.Build(database, "http://127.0.0.1:0", b =>
        {
            if (settings is not null) b.Configuration.AddInMemoryCollection(settings);
            if (clock is not null) b.Services.AddSingleton(clock);
        });
        await app.StartAsync();
        var server = new IngestServer(app, database, owner);
        server.OrgId = await Accounts.CreateOrgAsync(owner, "ingest-org");
        server.ProjectId = await Accounts.CreateProjectAsync(owner, server.OrgId, "ingest-a");
        return server;
    }

    public Task<Guid> NewProjectAsync(string slug, bool withBranches = true) => Accounts.CreateProjectAsync(Owner, OrgId, slug, withBranches);

    /// <summary>POSTs <paramref name="body"/> as given (no re-serialisation), with the shared ingest token unless told otherwise.</summary>
    public async Task<Answer> PostAsync(string body, string? token = TestHosts.IngestToken, string? contentType = "application/json",
        string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, MetricsIngestApi.Route) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        if (contentType is not null) request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (token is not null) request.Headers.Add(MetricsIngestApi.TokenHeader, token);
        if (idempotencyKey is not null) request.Headers.Add(MetricsIngestApi.IdempotencyHeader, idempotencyKey);
        return await SendAsync(request);
    }

    public async Task<Answer> SendAsync(HttpRequestMessage request)
    {
        using var response = await Http.SendAsync(request);
        return new Answer((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync(),
            response.Headers.TryGetValues(MetricsIngestApi.ReplayedHeader, out var replayed) && replayed.Contains("true"));
    }

    public async Task<long> SampleCountAsync()
    {
        await using var conn = await Accounts.OpenAsync(Owner);
        return await conn.ExecuteScalarAsync<long>("select count(*) from ops.metric_samples");
    }

    public async Task<NpgsqlConnection> OpenOwnerAsync() => await Accounts.OpenAsync(Owner);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _database.DisposeAsync();
    }
}

/// <summary>What came back: status, media type, the body's exact text, and whether it was an Idempotency-Key replay.</summary>
public sealed record Answer(int Status, string? MediaType, string Body, bool Replayed)
{
    public override string ToString() => $"{Status} {MediaType} {Body}";
}

/// <summary>An <see cref="IngestServer"/> shared by a test class (tests of a class run one after another).</summary>
public sealed class IngestWorld(PostgresCluster cluster) : IAsyncLifetime
{
    public IngestServer Server { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Server = await IngestServer.StartAsync(cluster);

    public async ValueTask DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
    }
}
