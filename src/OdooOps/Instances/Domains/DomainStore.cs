using Dapper;
using Npgsql;

namespace OdooOps.Instances.Domains;

/// <param name="Verified">The name points at this server (its last conclusive check said so): the proxy routes it.</param>
public sealed record InstanceDomain(Guid Id, Guid ProjectId, Guid BranchId, string Name, bool Verified, DateTime? VerifiedAt,
    DateTime? CheckedAt, string? CheckError, DateTime CreatedAt);

/// <summary>A branch as the Domains page shows it.</summary>
public sealed record DomainBranch(Guid Id, string Name, string Stage);

/// <summary>Domains as the user sees them (RLS: projects they see); writes go through the ops.*_instance_domain functions.</summary>
internal static class DomainStore
{
    const string Columns = "id, project_id, branch_id, name, verified_at is not null as verified, verified_at, checked_at, check_error, created_at";

    public static async Task<IReadOnlyList<InstanceDomain>> ListAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId, Guid? branchId) =>
        (await c.QueryAsync<InstanceDomain>(
            $"select {Columns} from ops.instance_domains where project_id = @projectId and (@branchId::uuid is null or branch_id = @branchId) order by name",
            new { projectId, branchId }, t)).AsList();

    public static Task<InstanceDomain?> GetAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId, Guid domainId) =>
        c.QuerySingleOrDefaultAsync<InstanceDomain?>(
            $"select {Columns} from ops.instance_domains where project_id = @projectId and id = @domainId", new { projectId, domainId }, t);

    public static Task<InstanceDomain> AddAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId, Guid branchId, string name) =>
        c.QuerySingleAsync<InstanceDomain>(
            $"select {Columns} from ops.add_instance_domain(@projectId, @branchId, @name)", new { projectId, branchId, name }, t);

    public static Task<InstanceDomain> RemoveAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId, Guid domainId) =>
        c.QuerySingleAsync<InstanceDomain>(
            $"select {Columns} from ops.remove_instance_domain(@projectId, @domainId)", new { projectId, domainId }, t);

    public static Task<InstanceDomain> RecordCheckAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId, Guid domainId, bool? verified, string? error) =>
        c.QuerySingleAsync<InstanceDomain>(
            $"select {Columns} from ops.record_instance_domain_check(@projectId, @domainId, @verified, @error)",
            new { projectId, domainId, verified, error }, t);

    /// <summary>Why the user may not manage this branch's domains (ops.domain_refusal); null when they may.</summary>
    public static Task<string?> RefusalAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId, Guid branchId) =>
        c.ExecuteScalarAsync<string?>("select ops.domain_refusal(@projectId, @branchId)", new { projectId, branchId }, t);

    /// <summary>The project's branches whose domains the user may manage (ops.domain_refusal has nothing to say).</summary>
    public static async Task<IReadOnlyList<Guid>> ManageableBranchesAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId) =>
        (await c.QueryAsync<Guid>(
            "select b.id from ops.branches b where b.project_id = @projectId and b.archived_at is null and ops.domain_refusal(@projectId, b.id) is null",
            new { projectId }, t)).AsList();

    public static Task<Guid> OrgOfAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId) =>
        c.ExecuteScalarAsync<Guid>("select org_id from ops.projects where id = @projectId", new { projectId }, t);
}
