using Dapper;
using Npgsql;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Deployments;

/// <summary>
/// Releases as ops.record_build_release and a sync's switch leave them, made as the cluster owner (the runner's side is
/// what the lifecycle tests exercise for real): a successful build of the branch, its instance on a runner (production's
/// current at once, the previous one retired), and its deployment through ops_private.record_deployment itself, so the
/// rows are the product's. Development and staging releases are made current at once here too (their switch happened).
/// </summary>
public static class DeploymentRows
{
    public sealed record Release(Guid BuildId, Guid InstanceId, Guid DeploymentId, string Commit);

    /// <summary>A runner of <paramref name="orgId"/> serving instances (the owner makes it: ops_app writes no runner).</summary>
    public static async Task<Guid> RunnerAsync(NpgsqlConnectionStringBuilder owner, Guid orgId, string name)
    {
        await using var conn = await Accounts.OpenAsync(owner);
        return await conn.ExecuteScalarAsync<Guid>(
            "insert into ops.runners (org_id, name, token_hash) values (@orgId, @name, sha256(gen_random_uuid()::text::bytea)) returning id",
            new { orgId, name });
    }

    /// <summary>A release of <paramref name="branch"/> going live on <paramref name="runnerId"/>.</summary>
    public static async Task<Release> ReleaseAsync(NpgsqlConnectionStringBuilder owner, Guid projectId, string branch, Guid runnerId,
        string? commit = null, Guid? triggeredBy = null)
    {
        commit ??= Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..16];
        await using var conn = await Accounts.OpenAsync(owner);
        await using var tx = await conn.BeginTransactionAsync();
        var row = await conn.QuerySingleAsync<(Guid Build, Guid Instance)>("""
            update ops.projects set host_label = 'h' || substr(md5(id::text), 1, 10) where id = @projectId and host_label is null;
            update ops.branches set host_label = replace(name, '_', '-') where project_id = @projectId and name = @branch and host_label is null;
            update ops.instances i set is_current = false, desired = 'stopped', retired_at = now(), state = 'stopped',
                                       stopped_at = now(), reason = 'superseded'
             where i.is_current and i.branch_id = (select id from ops.branches where project_id = @projectId and name = @branch);
            with br as (select id, stage from ops.branches where project_id = @projectId and name = @branch),
            build as (
                insert into ops.builds (project_id, branch_id, status, trigger, commit_sha, triggered_by, started_at, finished_at)
                select @projectId, br.id, 'success', 'push', @commit, @triggeredBy, now() - interval '2 minutes', now() - interval '1 minute' from br
                returning id),
            inst as (
                insert into ops.instances (project_id, branch_id, build_id, runner_id, stage, state, is_current, database_name, http_port,
                                           started_at, ready_at, drop_database)
                select @projectId, br.id, build.id, @runnerId, br.stage, 'running', true,
                       case when br.stage = 'production' then 'oo-prod-' || substr(md5(@projectId::text), 1, 8) else 'oo-' || substr(md5(random()::text), 1, 12) end,
                       18069, now() - interval '30 seconds', now() - interval '20 seconds', br.stage <> 'production'
                  from br, build
                returning id, build_id)
            select build_id, id from inst
            """, new { projectId, branch, runnerId, commit, triggeredBy }, tx);
        var deployment = await conn.ExecuteScalarAsync<Guid>("select ops_private.record_deployment(@Instance)", new { row.Instance }, tx);
        await tx.CommitAsync();
        return new Release(row.Build, row.Instance, deployment, commit);
    }

    /// <summary>The runner has cleaned the branch's retired instances up (their releases then count only among the newest 3).</summary>
    public static async Task CleanRetiredAsync(NpgsqlConnectionStringBuilder owner, Guid projectId)
    {
        await using var conn = await Accounts.OpenAsync(owner);
        await conn.ExecuteAsync("update ops.instances set cleaned_at = now() where project_id = @projectId and retired_at is not null and cleaned_at is null",
            new { projectId });
    }

    public static async Task<string> StatusAsync(NpgsqlConnectionStringBuilder owner, Guid deploymentId)
    {
        await using var conn = await Accounts.OpenAsync(owner);
        return (await conn.ExecuteScalarAsync<string>("select status from ops.deployments where id = @deploymentId", new { deploymentId }))!;
    }

    /// <summary>A succeeded backup of the branch (pre-deploy of <paramref name="buildId"/> when given).</summary>
    public static async Task<Guid> BackupAsync(NpgsqlConnectionStringBuilder owner, Guid projectId, string branch, Guid? buildId = null,
        string status = "succeeded")
    {
        await using var conn = await Accounts.OpenAsync(owner);
        return await conn.ExecuteScalarAsync<Guid>("""
            insert into ops.backups (project_id, branch_id, kind, status, build_id, finished_at)
            select @projectId, id, case when @buildId::uuid is null then 'manual' else 'pre-deploy' end, @status, @buildId, now()
              from ops.branches where project_id = @projectId and name = @branch
            returning id
            """, new { projectId, branch, buildId, status });
    }
}
