using System.Globalization;
using Dapper;
using Npgsql;
using OdooOps.Audit;
using OdooOps.Projects;
using OdooOps.Server;

namespace OdooOps.Branches;

/// <summary>
/// The size of a branch's Odoo server (workers, cron threads, memory and CPU limits), read and set the same way by PUT
/// /api/ops/projects/{id}/branches/{id}/instance-settings, the console's branch instance page and `odooops branches
/// instance`: one transaction with its <c>branch.instance_settings</c> audit row (only a change is audited). Who may is
/// the branches_write policy's, as for every branch write: developer on development and staging, admin on production.
/// A change applies at the instance's next start or restart.
/// </summary>
internal static class BranchInstanceSettings
{
    public const string WorkersField = "workers", CronField = "cron_threads", MemoryField = "memory_mb", CpusField = "cpus";
    public const int MaxWorkers = 64, MaxCronThreads = 16, MinMemoryMb = 128, MaxMemoryMb = 262_144;
    public const decimal MinCpus = 0.1m, MaxCpus = 256m;

    /// <param name="RunnerId">The host the branch is pinned to (<see cref="BranchHostMove"/> changes it), null when none.</param>
    public sealed record Settings(Guid BranchId, string Branch, string Stage, int Workers, int CronThreads, int MemoryMb, decimal Cpus,
        Guid? RunnerId, string? RunnerName);

    /// <summary>A change: null leaves that setting as it is.</summary>
    public sealed record Change(int? Workers, int? CronThreads, int? MemoryMb, decimal? Cpus);

    public abstract record Outcome;
    public sealed record Saved(Settings Settings) : Outcome;
    public sealed record NotFound : Outcome;
    public sealed record Refused(string Message) : Outcome;

    public static Validation Validate(Change change)
    {
        var v = new Validation();
        if (change is { Workers: null, CronThreads: null, MemoryMb: null, Cpus: null })
            v.Add(WorkersField, $"Give at least one of {WorkersField}, {CronField}, {MemoryField}, {CpusField}.");
        if (change.Workers is < 0 or > MaxWorkers)
            v.Add(WorkersField, $"{WorkersField} must be between 0 (threaded, one process) and {MaxWorkers}.");
        if (change.CronThreads is < 0 or > MaxCronThreads)
            v.Add(CronField, $"{CronField} must be between 0 and {MaxCronThreads}.");
        if (change.MemoryMb is < MinMemoryMb or > MaxMemoryMb)
            v.Add(MemoryField, $"{MemoryField} must be between {MinMemoryMb} and {MaxMemoryMb} (256 GiB).");
        if (change.Cpus is { } cpus && (cpus < MinCpus || cpus > MaxCpus || decimal.Round(cpus, 2) != cpus))
            v.Add(CpusField, $"{CpusField} must be between 0.1 and 256, in hundredths at most (e.g. 1.5).");
        return v;
    }

    const string Select = """
        select b.id as branch_id, b.name as branch, b.stage, b.instance_workers as workers, b.instance_cron_threads as cron_threads,
               b.instance_memory_mb as memory_mb, b.instance_cpus as cpus, b.runner_id, r.name as runner_name
          from ops.branches b
          left join ops.runners r on r.id = b.runner_id
         where b.id = @branchId and b.project_id = @projectId and b.archived_at is null
        """;

    /// <summary>Null: no such branch in the project (for this user), or an archived one.</summary>
    public static Task<Settings?> GetAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId, Guid branchId) =>
        c.QuerySingleOrDefaultAsync<Settings>(Select, new { projectId, branchId }, t);

    public static async Task<Outcome> SetAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, Guid projectId, Guid branchId, Change change)
    {
        if (await GetAsync(c, t, projectId, branchId) is not { } before) return new NotFound();
        var updated = await c.ExecuteAsync("""
            update ops.branches
               set instance_workers = coalesce(@Workers::int, instance_workers),
                   instance_cron_threads = coalesce(@CronThreads::int, instance_cron_threads),
                   instance_memory_mb = coalesce(@MemoryMb::int, instance_memory_mb),
                   instance_cpus = coalesce(@Cpus::numeric, instance_cpus)
             where id = @branchId and project_id = @projectId and archived_at is null
            """, new { projectId, branchId, change.Workers, change.CronThreads, change.MemoryMb, change.Cpus }, t);
        if (updated == 0) return new Refused(await RefusalAsync(c, t, projectId, before.Stage));
        var after = (await GetAsync(c, t, projectId, branchId))!;
        if (Sizes(before) != Sizes(after))
        {
            var project = (await ProjectStore.GetAsync(c, t, projectId))!;
            await AuditLog.WriteAsync(c, t, actor, new(project.OrgId, projectId, "branch.instance_settings", "branch", branchId.ToString(),
                Sizes(before), Sizes(after)));
        }
        return new Saved(after);
    }

    sealed record Size(int Workers, int CronThreads, int MemoryMb, decimal Cpus);

    static Size Sizes(Settings s) => new(s.Workers, s.CronThreads, s.MemoryMb, s.Cpus);

    /// <summary>The policy refused the row: the words name the role the branch's stage needs (ops.stage_move_role says it).</summary>
    static async Task<string> RefusalAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId, string stage)
    {
        var (needed, role) = await c.QuerySingleAsync<(string, string?)>(
            "select ops.stage_move_role(@stage, @stage), ops.project_role(@projectId)", new { stage, projectId }, t);
        return string.Create(CultureInfo.InvariantCulture,
            $"Changing the instance settings of a {stage} branch needs the {needed} role or higher; you are {role ?? "no member"}. Nothing was changed.");
    }
}
