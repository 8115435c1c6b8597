using Dapper;
using Npgsql;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Instances;

/// <summary>
/// Instances as the runner side would leave them, inserted as the cluster owner (the runner's functions are not what
/// these tests are about): a successful build of the branch, host labels for the project and branch (when missing), and
/// the instance row; log lines with the next seqs, announced on instance_logs as ops.append_instance_logs does.
/// </summary>
public static class InstanceRows
{
    public sealed record Options(string State = "running", string Desired = "running", bool Current = true, bool Retired = false,
        Guid? RunnerId = null, string? Reason = null, int Restarts = 0, string Commit = "c0ffee1234567890", int? HttpPort = 18069);

    public static async Task<Guid> InsertAsync(NpgsqlConnectionStringBuilder owner, Guid projectId, string branch, Options? options = null)
    {
        var o = options ?? new Options();
        await using var conn = await Accounts.OpenAsync(owner);
        return await conn.ExecuteScalarAsync<Guid>("""
            update ops.projects set host_label = 'h' || substr(md5(id::text), 1, 10) where id = @projectId and host_label is null;
            update ops.branches set host_label = replace(name, '_', '-') where project_id = @projectId and name = @branch and host_label is null;
            update ops.instances set is_current = false
             where @Current and is_current and branch_id = (select id from ops.branches where project_id = @projectId and name = @branch);
            with br as (select id, stage from ops.branches where project_id = @projectId and name = @branch),
            build as (
                insert into ops.builds (project_id, branch_id, status, trigger, commit_sha, started_at, finished_at)
                select @projectId, br.id, 'success', 'push', @Commit, now() - interval '10 minutes', now() - interval '5 minutes' from br
                returning id)
            insert into ops.instances (project_id, branch_id, build_id, runner_id, stage, state, reason, desired, is_current, database_name,
                                       http_port, restarts, started_at, ready_at, stopped_at, retired_at)
            select @projectId, br.id, build.id, @RunnerId, br.stage, @State, @Reason, @Desired, @Current,
                   'odoo_' || substr(md5(random()::text), 1, 12), @HttpPort, @Restarts,
                   now() - interval '4 minutes', case when @State in ('running', 'unhealthy') then now() - interval '3 minutes' end,
                   case when @State in ('stopped', 'failed') then now() - interval '1 minute' end,
                   case when @Retired then now() - interval '1 minute' end
              from br, build
            returning id
            """, new { projectId, branch, o.State, o.Desired, o.Current, o.Retired, o.RunnerId, o.Reason, o.Restarts, o.Commit, o.HttpPort });
    }

    /// <summary>Appends (level, line) lines after the instance's last one and notifies; returns the last seq.</summary>
    public static async Task<long> AppendAsync(NpgsqlConnectionStringBuilder owner, Guid instanceId, params (string Level, string Line)[] lines)
    {
        await using var conn = await Accounts.OpenAsync(owner);
        var last = await conn.ExecuteScalarAsync<long>("""
            with start as (select coalesce(max(seq), -1) + 1 as s from ops.instance_logs where instance_id = @instanceId),
            added as (
                insert into ops.instance_logs (instance_id, project_id, seq, level, line)
                select @instanceId, i.project_id, start.s + n.ord - 1, n.level, n.line
                  from ops.instances i, start, unnest(@levels::text[], @texts::text[]) with ordinality as n(level, line, ord)
                 where i.id = @instanceId
                returning seq)
            select max(seq) from added
            """, new { instanceId, levels = lines.Select(l => l.Level).ToArray(), texts = lines.Select(l => l.Line).ToArray() });
        await conn.ExecuteAsync("select pg_notify('instance_logs', @id)", new { id = instanceId.ToString() });
        return last;
    }

    /// <summary>Appends lines the way the instance's runner does, through ops.append_instance_logs (which notifies itself); returns the last seq.</summary>
    public static async Task<long> AppendAsRunnerAsync(NpgsqlConnectionStringBuilder owner, Guid runnerId, Guid instanceId, params (string Level, string Line)[] lines)
    {
        await using var conn = await Accounts.OpenAsync(owner);
        var next = await conn.ExecuteScalarAsync<long>("select coalesce(max(seq), -1) + 1 from ops.instance_logs where instance_id = @instanceId", new { instanceId });
        var seqs = Enumerable.Range(0, lines.Length).Select(i => next + i).ToArray();
        await conn.ExecuteAsync("select ops.append_instance_logs(@runnerId, @instanceId, @seqs, @ts, @levels, @texts)", new
        {
            runnerId, instanceId, seqs, ts = lines.Select(_ => DateTime.UtcNow).ToArray(),
            levels = lines.Select(l => l.Level).ToArray(), texts = lines.Select(l => l.Line).ToArray(),
        });
        return seqs[^1];
    }

    public static async Task<T> ScalarAsync<T>(NpgsqlConnectionStringBuilder owner, string sql, object? args = null)
    {
        await using var conn = await Accounts.OpenAsync(owner);
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    public static async Task ExecuteAsync(NpgsqlConnectionStringBuilder owner, string sql, object? args = null)
    {
        await using var conn = await Accounts.OpenAsync(owner);
        await conn.ExecuteAsync(sql, args);
    }
}
