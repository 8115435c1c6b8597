using Npgsql;

namespace OdooOps.Database;

/// <summary>
/// The two pools a running server uses. <see cref="App"/> logs in as a member of ops_app (bound by RLS) and every
/// transaction names its acting user; <see cref="Service"/> logs in as a member of ops_service for internal work.
/// The owner's credentials are used at start-up only (migrations, login roles).
/// </summary>
public sealed class OpsDatabase(NpgsqlDataSource app, NpgsqlDataSource service) : IAsyncDisposable
{
    public NpgsqlDataSource App { get; } = app;
    public NpgsqlDataSource Service { get; } = service;

    public static OpsDatabase Create(LoginRoles.Credentials credentials) =>
        new(NpgsqlDataSource.Create(Tuned(credentials.App)), NpgsqlDataSource.Create(Tuned(credentials.Service)));

    /// <summary>
    /// Requests repeat the same few statements: auto-preparing them saves the planning (several ms for the
    /// RLS-laden list queries) on every call after the second.
    /// </summary>
    static NpgsqlConnectionStringBuilder Tuned(NpgsqlConnectionStringBuilder builder) =>
        new(builder.ConnectionString) { MaxAutoPrepare = 64, AutoPrepareMinUsages = 2 };

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction as <paramref name="userId"/> (null: anonymous, which RLS shows nothing).
    /// set_config(…, true) is transaction-local, so a pooled connection never carries a user into the next request.
    /// </summary>
    public async Task<T> AsUserAsync<T>(Guid? userId, Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken ct = default)
    {
        await using var conn = await App.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var set = new NpgsqlCommand("select set_config('ops.user_id', $1, true)", conn, tx))
        {
            set.Parameters.Add(new() { Value = userId?.ToString() ?? "" });
            await set.ExecuteNonQueryAsync(ct);
        }
        var result = await work(conn, tx);
        await tx.CommitAsync(ct);
        return result;
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        await Service.DisposeAsync();
    }
}
