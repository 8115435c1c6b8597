using Dapper;
using Npgsql;
using OdooOps.Database;

[assembly: AssemblyFixture(typeof(OdooOps.Tests.Infrastructure.PostgresCluster))]

namespace OdooOps.Tests.Infrastructure;

/// <summary>
/// One throwaway PostgreSQL cluster per test run, started with the product's own <see cref="LocalPostgres"/>.
/// A template database is migrated once; each test class gets its own database copied from it.
/// </summary>
public sealed class PostgresCluster : IAsyncLifetime
{
    const string Template = "odooops_template";
    static int _counter;

    public LocalPostgres Server { get; private set; } = null!;
    string _dataDir = "";

    public async ValueTask InitializeAsync()
    {
        _dataDir = Path.Combine(Path.GetTempPath(), $"odooops-tests-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        Server = await LocalPostgres.StartAsync(_dataDir, new LocalPostgresOptions { Durable = false });
        await ExecuteAsync($"create database {Template}");
        await new Migrator(ConnectionString(Template).ConnectionString).MigrateAsync();
        NpgsqlConnection.ClearAllPools(); // CREATE DATABASE … TEMPLATE needs the template without connections
    }

    public NpgsqlConnectionStringBuilder ConnectionString(string database)
    {
        var cs = Server.ConnectionString(database);
        cs.Pooling = false; // databases come and go; pooled connections would block DROP/TEMPLATE
        return cs;
    }

    /// <summary>
    /// A fresh, migrated database of its own. A copy's privileges name the template's group roles until a start moves
    /// them to its own (RequestRoles), as it would for a copy made by an operator; done here, as a start would.
    /// </summary>
    public async Task<NpgsqlConnectionStringBuilder> CreateDatabaseAsync(string prefix)
    {
        var name = $"t_{Sanitize(prefix)}_{Interlocked.Increment(ref _counter)}";
        await ExecuteAsync($"create database {name} template {Template}");
        var cs = ConnectionString(name);
        await using var conn = new NpgsqlConnection(cs.ConnectionString);
        await conn.OpenAsync();
        await RequestRoles.EnsureAsync(conn, RequestRoles.For(name));
        return cs;
    }

    /// <summary>An empty database (no migrations), for migration tests.</summary>
    public async Task<NpgsqlConnectionStringBuilder> CreateEmptyDatabaseAsync(string prefix)
    {
        var name = $"e_{Sanitize(prefix)}_{Interlocked.Increment(ref _counter)}";
        await ExecuteAsync($"create database {name}");
        return ConnectionString(name);
    }

    static string Sanitize(string s) => new string([.. s.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit)])[..Math.Min(s.Length, 30)];

    async Task ExecuteAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(ConnectionString("postgres").ConnectionString);
        await conn.OpenAsync();
        await conn.ExecuteAsync(sql);
    }

    public async ValueTask DisposeAsync()
    {
        if (Server is not null) await Server.StopAsync(discard: true); // deleted next: no shutdown checkpoint to wait for
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
