using Dapper;
using Npgsql;
using OdooOps.Database;

namespace OdooOps.Tests.Infrastructure;

/// <summary>
/// A fresh migrated database holding <see cref="TwoTenants"/>, with the app (ops_app) and service (ops_service) logins
/// the server would use. Works as a class fixture (shared, for tests that roll back) or per test
/// (<c>await TenantDatabase.CreateAsync(cluster)</c>, for tests that commit).
/// </summary>
public sealed class TenantDatabase(PostgresCluster cluster) : IAsyncLifetime
{
    public NpgsqlConnectionStringBuilder Owner { get; private set; } = null!;
    public NpgsqlConnectionStringBuilder App { get; private set; } = null!;
    public NpgsqlConnectionStringBuilder Service { get; private set; } = null!;
    public TwoTenants Tenants { get; private set; } = null!;
    public Tenant A => Tenants.A;
    public Tenant B => Tenants.B;
    public PostgresCluster Cluster => cluster;

    public static async Task<TenantDatabase> CreateAsync(PostgresCluster cluster)
    {
        var db = new TenantDatabase(cluster);
        await db.InitializeAsync();
        return db;
    }

    public async ValueTask InitializeAsync()
    {
        Owner = await cluster.CreateDatabaseAsync("tenants");
        var creds = await LoginRoles.EnsureAsync(Owner);
        App = new NpgsqlConnectionStringBuilder(creds.App.ConnectionString) { Pooling = false };
        Service = new NpgsqlConnectionStringBuilder(creds.Service.ConnectionString) { Pooling = false };
        await using var owner = await OpenOwnerAsync();
        Tenants = await TwoTenants.BuildAsync(owner);
    }

    public Task<NpgsqlConnection> OpenOwnerAsync() => OpenAsync(Owner);
    public Task<NpgsqlConnection> OpenServiceAsync() => OpenAsync(Service);

    static async Task<NpgsqlConnection> OpenAsync(NpgsqlConnectionStringBuilder cs)
    {
        var conn = new NpgsqlConnection(cs.ConnectionString);
        await conn.OpenAsync();
        return conn;
    }

    /// <summary>An ops_app connection in a transaction acting as <paramref name="userId"/> (null: anonymous), as OpsDatabase does.</summary>
    public async Task<AppSession> AsUserAsync(Guid? userId)
    {
        var conn = await OpenAsync(App);
        var tx = await conn.BeginTransactionAsync();
        await conn.ExecuteAsync("select set_config('ops.user_id', @id, true)", new { id = userId?.ToString() ?? "" }, tx);
        return new AppSession(conn, tx);
    }

    NpgsqlConnection? _snapshotConnection;

    /// <summary>The owner's view of every row (see <see cref="DbSnapshot"/>), over one reused connection: tests of a class run one at a time.</summary>
    public async Task<SortedDictionary<string, List<string>>> SnapshotAsync()
    {
        _snapshotConnection ??= await OpenOwnerAsync();
        return await DbSnapshot.TakeAsync(_snapshotConnection);
    }

    public async ValueTask DisposeAsync()
    {
        if (_snapshotConnection is not null) await _snapshotConnection.DisposeAsync();
    }
}

/// <summary>One app transaction. Disposing without <see cref="CommitAsync"/> rolls back.</summary>
public sealed class AppSession(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
{
    int _savepoints;
    public NpgsqlConnection Connection { get; } = connection;
    public NpgsqlTransaction Transaction { get; } = transaction;

    public Task<IEnumerable<T>> QueryAsync<T>(string sql, object? args = null) => Connection.QueryAsync<T>(sql, args, Transaction);
    public Task<IEnumerable<dynamic>> QueryAsync(string sql, object? args = null) => Connection.QueryAsync(sql, args, Transaction);
    public Task<dynamic> QuerySingleAsync(string sql, object? args = null) => Connection.QuerySingleAsync(sql, args, Transaction);
    public Task<T?> ScalarAsync<T>(string sql, object? args = null) => Connection.ExecuteScalarAsync<T>(sql, args, Transaction);
    public Task<int> ExecuteAsync(string sql, object? args = null) => Connection.ExecuteAsync(sql, args, Transaction);

    /// <summary>
    /// Runs <paramref name="action"/> inside a savepoint. An error rolls back to it and is returned (the transaction
    /// stays usable); success keeps the work when <paramref name="keep"/>, otherwise rolls it back too.
    /// </summary>
    public async Task<Attempt<T>> TryAsync<T>(Func<Task<T>> action, bool keep = false)
    {
        var name = $"sp{++_savepoints}";
        await Transaction.SaveAsync(name);
        try
        {
            var value = await action();
            if (keep) await Transaction.ReleaseAsync(name); else await Transaction.RollbackAsync(name);
            return new Attempt<T>(value, null);
        }
        catch (PostgresException e)
        {
            await Transaction.RollbackAsync(name);
            return new Attempt<T>(default, e);
        }
    }

    public Task<Attempt<List<dynamic>>> TryQueryAsync(string sql, object? args = null, bool keep = false) =>
        TryAsync(async () => (await QueryAsync(sql, args)).ToList(), keep);

    public Task<Attempt<int>> TryExecuteAsync(string sql, object? args = null, bool keep = false) =>
        TryAsync(() => ExecuteAsync(sql, args), keep);

    public Task CommitAsync() => Transaction.CommitAsync();

    public async ValueTask DisposeAsync()
    {
        await Transaction.DisposeAsync();
        await Connection.DisposeAsync();
    }
}

/// <summary>The outcome of one statement: a value, or the PostgreSQL error it raised.</summary>
public readonly record struct Attempt<T>(T? Value, PostgresException? Error)
{
    public bool Ok => Error is null;
    public string? SqlState => Error?.SqlState;
    public override string ToString() => Ok ? $"ok: {Value}" : $"{Error!.SqlState}: {Error.MessageText}";
}
