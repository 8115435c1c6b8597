using Microsoft.Extensions.Configuration;
using Npgsql;
using OdooOps.Configuration;

namespace OdooOps.Database;

/// <summary>
/// The database a verb works on: the configured OPS_DATABASE_URL, or else the embedded cluster in the data dir
/// (started for the duration of the verb, and stopped again when disposed).
/// </summary>
internal sealed class DatabaseTarget : IAsyncDisposable
{
    public NpgsqlConnectionStringBuilder Owner { get; }
    public LocalPostgres? Local { get; }
    public string DataDir { get; }

    DatabaseTarget(NpgsqlConnectionStringBuilder owner, LocalPostgres? local, string dataDir)
    {
        Owner = owner;
        Local = local;
        DataDir = dataDir;
    }

    public string Describe() => Local is null
        ? DatabaseUrl.Describe(Owner)
        : $"embedded PostgreSQL in {Local.ClusterDir} ({DatabaseUrl.Describe(Owner)})";

    /// <param name="exclusive">serve needs the data dir to itself; other verbs may attach to a running serve's cluster.</param>
    public static async Task<DatabaseTarget> OpenAsync(IConfiguration config, bool exclusive, CancellationToken ct = default)
    {
        var dataDir = OpsConfiguration.ResolveDataDir(config);
        var url = config[OpsConfiguration.DatabaseUrl];
        if (!string.IsNullOrWhiteSpace(url))
        {
            var owner = DatabaseUrl.Parse(url);
            return new DatabaseTarget(owner, null, dataDir);
        }
        var local = exclusive
            ? await LocalPostgres.StartAsync(dataDir, ct: ct)
            : await LocalPostgres.StartOrAttachAsync(dataDir, ct: ct);
        return new DatabaseTarget(local.ConnectionString(), local, dataDir);
    }

    public async ValueTask DisposeAsync()
    {
        if (Local is not null) await Local.DisposeAsync();
    }
}
