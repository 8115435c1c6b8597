using Dapper;
using Npgsql;

namespace OdooOps.Backups;

/// <summary>
/// One backup of a branch as the API, the console and the CLI show it: what it is (kind, who asked), how the taking went
/// (status, reason, size, duration), whether it is proven restorable (verification and why not), what it holds (Odoo
/// version, installed modules, tables, filestore files), and whether the caller may act on it (<see cref="CanManage"/>,
/// ops.can_manage_backups).
/// </summary>
public sealed record Backup
{
    public Guid Id { get; init; }
    public Guid ProjectId { get; init; }
    public Guid BranchId { get; init; }
    public string Branch { get; init; } = "";
    public string Stage { get; init; } = "";
    /// <summary>daily, manual, pre-deploy, pre-restore or import.</summary>
    public string Kind { get; init; } = "";
    /// <summary>pending, running, succeeded or failed (with <see cref="Reason"/>).</summary>
    public string Status { get; init; } = "";
    public string? Reason { get; init; }
    /// <summary>pending, running, verified or failed (with <see cref="VerificationReason"/>).</summary>
    public string Verification { get; init; } = "";
    public string? VerificationReason { get; init; }
    public DateTime? VerifiedAt { get; init; }
    public long? SizeBytes { get; init; }
    public string? Sha256 { get; init; }
    public long? DurationMs { get; init; }
    public string? OdooVersion { get; init; }
    /// <summary>Installed modules when it was taken.</summary>
    public int? ModulesCount { get; init; }
    public int? TableCount { get; init; }
    public int? FilestoreFiles { get; init; }
    public long? FilestoreBytes { get; init; }
    /// <summary>Who asked (null: the daily schedule or a build).</summary>
    public Guid? RequestedBy { get; init; }
    public string? RequestedByName { get; init; }
    /// <summary>The build whose pre-deploy backup it is.</summary>
    public Guid? BuildId { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime? StartedAt { get; init; }
    public DateTime? FinishedAt { get; init; }
    /// <summary>Pruned by retention: listed for the record, its file is gone.</summary>
    public DateTime? DeletedAt { get; init; }
    /// <summary>May the caller download, verify and restore it (and back its branch up).</summary>
    public bool CanManage { get; init; }

    public bool IsKept => DeletedAt is null;
    public bool IsRestorable => IsKept && Status == "succeeded" && Verification != "failed";
}

/// <summary>A runner task on a backup: taking it, verifying it, or restoring it into a branch; with its log.</summary>
public sealed record BackupTask
{
    public Guid Id { get; init; }
    public Guid BackupId { get; init; }
    /// <summary>backup, verify or restore.</summary>
    public string Kind { get; init; } = "";
    /// <summary>queued, running, succeeded, failed or cancelled (with <see cref="Detail"/>).</summary>
    public string Status { get; init; } = "";
    public string? Detail { get; init; }
    /// <summary>Someone asked to stop it while it runs: its runner stops at its next heartbeat.</summary>
    public bool CancelRequested { get; init; }
    /// <summary>May the caller cancel it (queued or running, and they may ask for such a task: ops.can_manage_backups on its branch).</summary>
    public bool CanCancel { get; init; }
    /// <summary>The branch it works on (a restore's target).</summary>
    public Guid BranchId { get; init; }
    public string Branch { get; init; } = "";
    public int Attempt { get; init; }
    /// <summary>A restore into production waits for this task (its pre-restore backup).</summary>
    public Guid? After { get; init; }
    /// <summary>A restore into staging or development: the database is neutralised.</summary>
    public bool Neutralize { get; init; }
    public string? RequestedByName { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime? StartedAt { get; init; }
    public DateTime? FinishedAt { get; init; }
    public IReadOnlyList<BackupTaskLogLine> Logs { get; init; } = [];
}

public sealed record BackupTaskLogLine(long Seq, DateTime Ts, string Stream, string Line);

/// <summary>A branch as the Backups page lists it (a section, a restore target).</summary>
public sealed record BackupBranch(Guid Id, string Name, string Stage);

/// <summary>Backups' SQL, inside a user transaction (RLS decides what exists).</summary>
internal static class BackupStore
{
    public static readonly string[] Kinds = ["daily", "manual", "pre-deploy", "pre-restore", "import"];

    /// <summary>The log lines shown per task: the last ones.</summary>
    public const int LogLinesPerTask = 1000;

    const string Select = """
        select k.id, k.project_id, k.branch_id, b.name as branch, b.stage, k.kind, k.status, k.reason, k.verification,
               k.verification_reason, k.verified_at, k.size_bytes, k.sha256, k.duration_ms, k.odoo_version,
               case jsonb_typeof(k.modules)
                    when 'array' then (select count(*) from jsonb_array_elements(k.modules) m
                                        where coalesce(m ->> 'state', 'installed') = 'installed')::int
                    when 'object' then (select count(*) from jsonb_object_keys(k.modules))::int
               end as modules_count,
               k.table_count, k.filestore_files, k.filestore_bytes, k.requested_by, coalesce(u.display_name, u.email) as requested_by_name,
               k.build_id, k.created_at, k.started_at, k.finished_at, k.deleted_at,
               ops.can_manage_backups(k.project_id, k.branch_id) as can_manage
          from ops.backups k
          join ops.branches b on b.id = k.branch_id
          left join registry.users u on u.id = k.requested_by
        """;

    /// <summary>A project's backups (or one branch's), newest first; pruned ones only when asked.</summary>
    public static async Task<IReadOnlyList<Backup>> ListAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId, Guid? branchId,
        bool withPruned, int limit) =>
        [.. await c.QueryAsync<Backup>($"""
            {Select}
             where k.project_id = @projectId and (@branchId::uuid is null or k.branch_id = @branchId)
               and (@withPruned or k.deleted_at is null)
             order by k.created_at desc, k.id desc
             limit @limit
            """, new { projectId, branchId, withPruned, limit }, t)];

    public static Task<Backup?> GetAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid backupId) =>
        c.QuerySingleOrDefaultAsync<Backup>($"{Select} where k.id = @backupId", new { backupId }, t);

    const string TaskSelect = """
        select t.id, t.backup_id, t.kind, t.status, t.detail, t.cancel_requested,
               t.status in ('queued', 'running') and ops.can_manage_backups(t.project_id, t.branch_id) as can_cancel,
               t.branch_id, b.name as branch, t.attempt, (t.options ->> 'after')::uuid as after,
               coalesce((t.options ->> 'neutralize')::boolean, false) as neutralize, coalesce(u.display_name, u.email) as requested_by_name,
               t.created_at, t.started_at, t.finished_at
          from ops.runner_tasks t
          join ops.branches b on b.id = t.branch_id
          left join registry.users u on u.id = t.requested_by
        """;

    /// <summary>A project's queued and running tasks (taking, verifying, restoring backups), oldest first, without their logs.</summary>
    public static async Task<IReadOnlyList<BackupTask>> ActiveTasksAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId) =>
        [.. await c.QueryAsync<BackupTask>($"""
            {TaskSelect}
             where t.project_id = @projectId and t.status in ('queued', 'running')
             order by t.created_at, t.id
            """, new { projectId }, t)];

    /// <summary>The tasks on a backup, oldest first, each with its last <see cref="LogLinesPerTask"/> log lines.</summary>
    public static async Task<IReadOnlyList<BackupTask>> TasksAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid backupId)
    {
        var tasks = (await c.QueryAsync<BackupTask>($"""
            {TaskSelect}
             where t.backup_id = @backupId
             order by t.created_at, t.id
            """, new { backupId }, t)).ToList();
        if (tasks.Count == 0) return tasks;
        var lines = (await c.QueryAsync<(Guid TaskId, long Seq, DateTime Ts, string Stream, string Line)>("""
            select task_id, seq, ts, stream, line
              from (select l.*, row_number() over (partition by l.task_id order by l.seq desc) as n
                      from ops.runner_task_logs l where l.task_id = any (@ids)) x
             where n <= @max
             order by task_id, seq
            """, new { ids = tasks.Select(x => x.Id).ToArray(), max = LogLinesPerTask }, t)).ToLookup(l => l.TaskId);
        return [.. tasks.Select(x => x with { Logs = [.. lines[x.Id].Select(l => new BackupTaskLogLine(l.Seq, l.Ts, l.Stream, l.Line))] })];
    }

    public static async Task<BackupTask?> TaskAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid backupId, Guid taskId) =>
        (await TasksAsync(c, t, backupId)).FirstOrDefault(x => x.Id == taskId);

    /// <summary>The project's branches whose backups the caller may take, download, verify and restore into (ops.can_manage_backups).</summary>
    public static async Task<IReadOnlySet<Guid>> ManageableBranchesAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId) =>
        (await c.QueryAsync<Guid>("""
            select b.id from ops.branches b
             where b.project_id = @projectId and b.archived_at is null and ops.can_manage_backups(b.project_id, b.id)
            """, new { projectId }, t)).ToHashSet();

    /// <summary>A project's schedule and retention, as its Backups page states them.</summary>
    public sealed record Schedule(TimeOnly BackupTime, int KeepDaily, int KeepWeekly, int KeepMonthly);

    public static Task<Schedule?> ScheduleAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId) =>
        c.QuerySingleOrDefaultAsync<Schedule>("""
            select backup_time, backup_keep_daily as keep_daily, backup_keep_weekly as keep_weekly, backup_keep_monthly as keep_monthly
              from ops.projects where id = @projectId
            """, new { projectId }, t);

    public static Task<Guid?> OrgOfAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId) =>
        c.ExecuteScalarAsync<Guid?>("select org_id from ops.projects where id = @projectId", new { projectId }, t);
}
