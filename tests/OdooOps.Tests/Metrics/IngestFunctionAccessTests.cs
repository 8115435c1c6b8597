using Dapper;
using Npgsql;
using OdooOps.Database;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Metrics;

/// <summary>
/// The ingest function keeps the security model: ops.ingest_metric_batch bypasses RLS, so only ops_service may
/// run it; the Idempotency-Key table is owner-only with RLS on; `db verify` stays green.
/// </summary>
public sealed class IngestFunctionAccessTests(TenantDatabase db) : IClassFixture<TenantDatabase>
{
    const string Function = "ops.ingest_metric_batch(uuid, text[], timestamptz[], double precision[], text[], jsonb[], text, bytea)";
    const string Call = "select * from ops.ingest_metric_batch(@ProjectId, array['acl.m'], array[now()], array[1.0::float8], null, null, null, null)";

    [Fact]
    public async Task Only_ops_service_executes_the_batch_function()
    {
        await using var owner = await db.OpenOwnerAsync();
        var (app, service, pub) = await owner.QuerySingleAsync<(bool, bool, bool)>(RequestRoles.For(owner.Database).Substitute(
            "select has_function_privilege('ops_app', @f::regprocedure, 'execute'), has_function_privilege('ops_service', @f::regprocedure, 'execute'), ")
            + "exists (select 1 from aclexplode((select proacl from pg_proc where oid = @f::regprocedure)) a where a.grantee = 0)", new { f = Function });
        Assert.Equal((false, true, false), (app, service, pub));

        foreach (var user in new Guid?[] { db.A.OwnerId, null })
        {
            await using var session = await db.AsUserAsync(user);
            var attempt = await session.TryQueryAsync(Call, db.A);
            Assert.True(attempt.SqlState == "42501", $"as {user}: {attempt}");
        }

        await using var conn = await db.OpenServiceAsync();
        await using var tx = await conn.BeginTransactionAsync(); // rolled back: the class database stays as built
        var (inserted, replayed) = await conn.QuerySingleAsync<(int, bool)>(Call, db.A, tx);
        Assert.Equal((1, false), (inserted, replayed));
    }

    [Fact]
    public async Task The_idempotency_table_is_owner_only_with_rls()
    {
        await using var owner = await db.OpenOwnerAsync();
        Assert.Equal((true, true), await owner.QuerySingleAsync<(bool, bool)>(
            "select relrowsecurity, coalesce(array_length(relacl, 1), 0) <= 1 from pg_class where oid = 'ops_private.ingest_idempotency'::regclass"));
        foreach (var cs in new[] { db.App, db.Service })
        {
            await using var conn = new NpgsqlConnection(cs.ConnectionString);
            await conn.OpenAsync();
            var e = await Assert.ThrowsAsync<PostgresException>(() => conn.ExecuteScalarAsync("select count(*) from ops_private.ingest_idempotency"));
            Assert.Equal("42501", e.SqlState);
        }
    }

    [Fact]
    public async Task Db_verify_stays_green()
    {
        var failed = (await DbVerifier.RunAsync(db.Owner.ConnectionString)).Where(c => !c.Passed).Select(c => $"{c.Name}: {c.Detail}");
        Assert.Empty(failed);
    }
}
