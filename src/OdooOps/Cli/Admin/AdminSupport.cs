using Npgsql;
using OdooOps.Server;

namespace OdooOps.Cli.Admin;

/// <summary>
/// What the admin verbs (org, user, token) share: they run the same use cases as the API and the console, as the
/// system actor on the database owner's connection, each in one transaction; bad input is one line, before anything
/// is written.
/// </summary>
internal static class AdminSupport
{
    /// <summary>Runs <paramref name="work"/> in one transaction as the database owner; it commits when the work returns.</summary>
    public static async Task<T> InTransactionAsync<T>(NpgsqlConnectionStringBuilder owner, Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(owner.ConnectionString);
        await conn.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var result = await work(conn, tx);
        await tx.CommitAsync(ct);
        return result;
    }

    /// <summary>Field errors become the verb's one-line error (the fields are named as its options).</summary>
    public static void Require(Validation v)
    {
        if (!v.IsValid) throw new ArgumentException(string.Join(" ", v.Errors.SelectMany(e => e.Value)));
    }
}
