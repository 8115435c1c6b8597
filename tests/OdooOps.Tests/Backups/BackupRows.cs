using Dapper;
using Npgsql;
using OdooOps.Backups.Storage;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Backups;

/// <summary>
/// Backups as the runner's side would leave them, inserted as the cluster owner (their zips put in a folder storage when
/// a test needs them); a host (a runner with the branch's current instance on it) for a branch.
/// </summary>
public static class BackupRows
{
    public sealed record Options(string Kind = "manual", string Status = "succeeded", string Verification = "pending", TimeSpan? Age = null,
        string? Key = "", Guid? RequestedBy = null, string? Reason = null);

    /// <summary>A backup of the branch (by id); its storage key is its own (BackupKeys) when it succeeded, unless told (null: none).
    /// No file is stored: see <see cref="StoreAsync"/>.</summary>
    public static async Task<Guid> InsertAsync(NpgsqlConnectionStringBuilder owner, Guid branchId, Options? options = null)
    {
        var o = options ?? new Options();
        var id = Guid.NewGuid();
        await using var conn = await Accounts.OpenAsync(owner);
        var project = await conn.ExecuteScalarAsync<Guid>("select project_id from ops.branches where id = @branchId", new { branchId });
        var key = o.Key == "" ? (o.Status == "succeeded" ? BackupKeys.For(project, branchId, id) : null) : o.Key;
        await conn.ExecuteAsync("""
            insert into ops.backups (id, project_id, branch_id, kind, status, reason, verification, verified_at, requested_by, created_at,
                                     finished_at, size_bytes, sha256, storage, storage_key, modules)
            select @id, b.project_id, b.id, @Kind, @Status, @Reason, @Verification,
                   case when @Verification in ('verified', 'failed') then now() - @age end, @RequestedBy, now() - @age,
                   case when @Status in ('succeeded', 'failed') then now() - @age end,
                   case when @Status = 'succeeded' then 123456 end, case when @Status = 'succeeded' then repeat('ab', 32) end,
                   case when @key is not null then 'local' end, @key,
                   '[{"name": "base", "state": "installed", "version": "18.0.1.3"}, {"name": "sale", "state": "installed", "version": "18.0.1.0"},
                     {"name": "crm", "state": "uninstalled", "version": null}]'
              from ops.branches b where b.id = @branchId
            """, new { id, branchId, o.Kind, o.Status, o.Reason, o.Verification, age = o.Age ?? TimeSpan.FromMinutes(5), o.RequestedBy, key });
        return id;
    }

    /// <summary>Puts <paramref name="zip"/> in the folder storage at the backup's key, as the runner's upload would.</summary>
    public static async Task StoreAsync(string folder, Guid projectId, Guid branchId, Guid backupId, byte[] zip)
    {
        using var source = new MemoryStream(zip);
        await new FolderBackupStorage(folder).PutAsync(BackupKeys.For(projectId, branchId, backupId), source, long.MaxValue, CancellationToken.None);
    }

    /// <summary>A runner of the project's organisation with the branch's current instance on it: the branch's host.</summary>
    public static async Task<Guid> HostAsync(NpgsqlConnectionStringBuilder owner, Guid projectId, string branch, Guid? runnerId = null)
    {
        await using (var conn = await Accounts.OpenAsync(owner))
            runnerId ??= await conn.ExecuteScalarAsync<Guid>("""
                insert into ops.runners (org_id, name, token_hash)
                select org_id, 'host-' || substr(md5(random()::text), 1, 8), sha256(gen_random_uuid()::text::bytea) from ops.projects where id = @projectId
                returning id
                """, new { projectId });
        await Instances.InstanceRows.InsertAsync(owner, projectId, branch, new(RunnerId: runnerId));
        return runnerId.Value;
    }

    /// <summary>A new development branch of the project with a host: a fresh quota and no restore in the way.</summary>
    public static async Task<(Guid Id, string Name)> NewHostedBranchAsync(NpgsqlConnectionStringBuilder owner, Guid projectId, string stage = "development",
        Guid? runnerId = null)
    {
        var name = $"b-{Guid.NewGuid():N}"[..14];
        await using (var conn = await Accounts.OpenAsync(owner))
            await conn.ExecuteAsync("insert into ops.branches (project_id, name, stage, is_production) values (@projectId, @name, @stage, false)",
                new { projectId, name, stage });
        await HostAsync(owner, projectId, name, runnerId);
        await using var again = await Accounts.OpenAsync(owner);
        return (await again.ExecuteScalarAsync<Guid>("select id from ops.branches where project_id = @projectId and name = @name", new { projectId, name }), name);
    }

    /// <summary>Backups and their tasks, and the audit rows about backups: what a refused request must leave as it was (daily
    /// backups left out: the server's backup_schedule job queues them whenever its tick comes).</summary>
    public static async Task<string> FingerprintAsync(NpgsqlConnectionStringBuilder owner)
    {
        await using var conn = await Accounts.OpenAsync(owner);
        return await conn.ExecuteScalarAsync<string>("""
            select md5(concat_ws('|',
                (select string_agg(t::text, ',' order by t.id) from ops.backups t where t.kind <> 'daily'),
                (select string_agg(t::text, ',' order by t.id) from ops.runner_tasks t
                  where not exists (select 1 from ops.backups k where k.id = t.backup_id and k.kind = 'daily')),
                (select string_agg(t::text, ',' order by t.id) from ops.audit_log t where t.action like 'backup.%')))
            """) ?? "";
    }
}
