using System.Security.Cryptography;
using Dapper;
using Npgsql;
using OdooOps.Database;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Database;

/// <summary>
/// The internal SECURITY DEFINER functions bypass RLS, so only the ops_service login may run them; the ops_app login
/// (whoever the acting user is) must get 42501, and ops_service must get nothing but those functions.
/// </summary>
public sealed class InternalFunctionAccessTests(TenantDatabase db) : IClassFixture<TenantDatabase>
{
    static readonly string[] InternalCalls =
    [
        "select inserted from ops.ingest_metric_batch(@ProjectId, '{cpu_pct}', array[now()], '{1}', null, null, null, null)",
        "select ops.advisory_scan()",
        "select ops.advisory_scan(@ProjectId)",
        "select ops.ensure_metric_partitions(date '2030-01-01', 1)",
        "select ops.drop_metric_partitions_before(current_date + 1)",
        "select ops.authenticate_ingest_token(@IngestTokenHash)",
        "select * from ops.authenticate_api_token(@ApiTokenHash)",
        "select ops.webhook_signing_key(@ProjectId)",
        "select outcome from ops.webhook_push(@ProjectId, 'github', 'feature/hook', repeat('a', 40), 'm', false, true, 20, null, null, null, null)",
        "select ops.prune_webhook_deliveries(now())",
        "select count(*) from ops.repo_url_credentials()",
        "select ops.adopt_repo_url_credential(@ProjectId, 'u:p', 'u', 'ciphertext')",
        "select count(*) from ops.build_repo_credential(gen_random_uuid(), gen_random_uuid(), gen_random_uuid())",
    ];

    [Fact]
    public async Task The_app_login_cannot_execute_internal_functions_as_anyone()
    {
        var before = await db.SnapshotAsync();
        foreach (var user in new Guid?[] { db.A.OwnerId, db.A.ViewerId, null })
        {
            await using var session = await db.AsUserAsync(user);
            foreach (var sql in InternalCalls)
            {
                var attempt = await session.TryQueryAsync(sql, db.A, keep: true);
                Assert.True(attempt.SqlState == "42501", $"{sql} as {user}: expected 42501, got {attempt}");
            }
            await session.CommitAsync();
        }
        Assert.Equal(before, await db.SnapshotAsync());
    }

    [Fact]
    public async Task The_service_login_runs_each_internal_function()
    {
        // A project without a production branch gives advisory_scan something to create.
        await using (var owner = await db.OpenOwnerAsync())
            await owner.ExecuteAsync("insert into ops.projects (org_id, name, slug, repo_url) values (@OrgId, 'Bare', 'bare', 'https://git.example/bare.git')", db.A);

        await using var conn = await db.OpenServiceAsync();
        await using var tx = await conn.BeginTransactionAsync(); // rolled back: the class database stays as built
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>(InternalCalls[0], db.A, tx));
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>(InternalCalls[1], transaction: tx));
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>(InternalCalls[1], transaction: tx)); // upserted, not duplicated
        Assert.Equal(2, await conn.ExecuteScalarAsync<int>("select ops.ensure_metric_partitions(date '2001-01-01', 2)", transaction: tx));
        Assert.Equal(2, await conn.ExecuteScalarAsync<int>("select ops.drop_metric_partitions_before(date '2001-01-03')", transaction: tx));

        Assert.Equal(db.A.ProjectId, await conn.ExecuteScalarAsync<Guid?>(InternalCalls[5], db.A, tx));
        Assert.Null(await conn.ExecuteScalarAsync<Guid?>(InternalCalls[5], new { IngestTokenHash = RandomNumberGenerator.GetBytes(32) }, tx));
        var token = Assert.Single(await conn.QueryAsync<(Guid, Guid, string)>(InternalCalls[6], db.A, tx));
        Assert.Equal((db.A.ApiTokenId, db.A.OwnerId, "write"), token);
        Assert.Empty(await conn.QueryAsync(InternalCalls[6], new { ApiTokenHash = RandomNumberGenerator.GetBytes(32) }, tx));
        Assert.Null(await conn.ExecuteScalarAsync<string?>(InternalCalls[7], db.A, tx)); // the fixture's projects have no webhook secret
        Assert.Equal("queued", await conn.ExecuteScalarAsync<string>(InternalCalls[8], db.A, tx));
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>(InternalCalls[9], transaction: tx)); // nothing older than now but the push just made
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>(InternalCalls[10], transaction: tx));
        Assert.False(await conn.ExecuteScalarAsync<bool>(InternalCalls[11], db.A, tx)); // nothing waits for this project
    }

    [Fact]
    public async Task A_push_names_no_user_whatever_the_session_carries()
    {
        await using var conn = await db.OpenServiceAsync();
        await using var tx = await conn.BeginTransactionAsync(); // rolled back: the class database stays as built
        await conn.ExecuteAsync("select set_config('ops.user_id', @OwnerId::text, false)", db.A, tx);
        var buildId = await conn.ExecuteScalarAsync<Guid>(
            "select build_id from ops.webhook_push(@ProjectId, 'github', 'feature/anon', repeat('c', 40), 'm', false, true, 20, null, null, null, null)", db.A, tx);
        await using var owner = await db.OpenOwnerAsync();
        await tx.CommitAsync();
        try
        {
            Assert.Null(await owner.ExecuteScalarAsync<Guid?>("select triggered_by from ops.builds where id = @buildId", new { buildId }));
            Assert.Equal(0L, await owner.ExecuteScalarAsync<long>(
                "select count(*) from ops.audit_log where project_id = @ProjectId and actor = 'webhook' and actor_user_id is not null", db.A));
        }
        finally
        {
            await owner.ExecuteAsync("delete from ops.builds where id = @buildId; delete from ops.branches where project_id = @ProjectId and name = 'feature/anon'",
                new { buildId, db.A.ProjectId });
        }
    }

    [Fact]
    public async Task The_service_login_has_no_table_privileges_and_no_user_rpcs()
    {
        await using var conn = await db.OpenServiceAsync();
        foreach (var sql in new[]
                 {
                     "select count(*) from ops.projects", "select count(*) from registry.users", "select count(*) from ops.api_tokens",
                     "select count(*) from ops.list_projects()", "select ops.current_user_id()",
                     "select count(*) from ops_private.project_webhooks",
                     "select secret_set from ops.webhook_settings('00000000-0000-4000-8000-000000000001')",
                     "select ops.rotate_webhook_secret('00000000-0000-4000-8000-000000000001', repeat('s', 64))",
                 })
        {
            var e = await Assert.ThrowsAsync<PostgresException>(() => conn.ExecuteScalarAsync(sql));
            Assert.True(e.SqlState == "42501", $"{sql}: {e.SqlState} {e.MessageText}");
        }
    }

    [Fact]
    public async Task Execute_grants_on_internal_functions_name_ops_service_only()
    {
        await using var owner = await db.OpenOwnerAsync();
        foreach (var fn in new[]
                 {
                     "ops.ingest_metric_batch(uuid, text[], timestamptz[], double precision[], text[], jsonb[], text, bytea)", "ops.advisory_scan(uuid)", "ops.ensure_metric_partitions(date, int)",
                     "ops.drop_metric_partitions_before(date)", "ops.authenticate_ingest_token(bytea)", "ops.authenticate_api_token(bytea)",
                     "ops.webhook_signing_key(uuid)", "ops.webhook_push(uuid, text, text, text, text, boolean, boolean, integer, inet, text, bytea, timestamptz)",
                     "ops.prune_webhook_deliveries(timestamptz)", "ops.repo_url_credentials()", "ops.adopt_repo_url_credential(uuid, text, text, text)",
                     "ops.build_repo_credential(uuid, uuid, uuid)", "ops.build_secret_names(uuid, uuid, uuid)",
                 })
        {
            var (app, service, pub) = await owner.QuerySingleAsync<(bool, bool, bool)>(RequestRoles.For(owner.Database).Substitute(
                "select has_function_privilege('ops_app', @fn::regprocedure, 'execute'), has_function_privilege('ops_service', @fn::regprocedure, 'execute'), ")
                + "exists (select 1 from aclexplode((select proacl from pg_proc where oid = @fn::regprocedure)) a where a.grantee = 0)", new { fn });
            Assert.Equal((false, true, false), (app, service, pub));
        }
    }

    [Fact]
    public async Task The_webhook_secret_is_out_of_the_app_logins_reach()
    {
        await using (var owner = await db.OpenOwnerAsync())
        {
            Assert.False(await owner.ExecuteScalarAsync<bool>(
                "select exists (select 1 from pg_attribute where attrelid = 'ops.projects'::regclass and attname = 'webhook_secret' and not attisdropped)"));
            Assert.False(await owner.ExecuteScalarAsync<bool>(RequestRoles.For(owner.Database).Substitute("select has_table_privilege('ops_app', 'ops_private.project_webhooks', 'select')")));
        }
        await using var admin = await db.AsUserAsync(db.A.OwnerId);
        Assert.Equal("42501", (await admin.TryQueryAsync("select secret from ops_private.project_webhooks")).SqlState);
        Assert.Equal("42501", (await admin.TryQueryAsync("select ops.webhook_signing_key(@ProjectId)", db.A)).SqlState);
        Assert.Equal("22023", (await admin.TryQueryAsync("select ops.rotate_webhook_secret(@ProjectId, 'too-short')", db.A)).SqlState);
    }
}
