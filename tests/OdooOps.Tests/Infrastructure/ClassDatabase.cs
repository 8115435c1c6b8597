using Dapper;
using Npgsql;

namespace OdooOps.Tests.Infrastructure;

/// <summary>A migrated database per test class, copied from the cluster's template.</summary>
public sealed class ClassDatabase(PostgresCluster cluster) : IAsyncLifetime
{
    public NpgsqlConnectionStringBuilder Owner { get; private set; } = null!;
    public PostgresCluster Cluster => cluster;

    public async ValueTask InitializeAsync() => Owner = await cluster.CreateDatabaseAsync("class");

    public async Task<NpgsqlConnection> OpenOwnerAsync()
    {
        var conn = new NpgsqlConnection(Owner.ConnectionString);
        await conn.OpenAsync();
        return conn;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
