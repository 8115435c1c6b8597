using Dapper;
using Npgsql;
using OdooOps.Auth;

namespace OdooOps.Members;

public sealed record Member(Guid UserId, string Email, string? DisplayName, string Role, DateTime CreatedAt);

/// <summary>
/// Org and project memberships share one shape; <see cref="Scope"/> names the table and its key column so the
/// same statements serve both. RLS decides who may read and change them.
/// </summary>
internal sealed record MemberScope(string Table, string KeyColumn, IReadOnlyList<Role> Roles)
{
    public static readonly MemberScope Org = new("registry.org_members", "org_id", OdooOps.Auth.Roles.All);
    public static readonly MemberScope Project = new("ops.project_members", "project_id", OdooOps.Auth.Roles.Project);
}

internal static class MemberStore
{
    public static async Task<IReadOnlyList<Member>> ListAsync(NpgsqlConnection conn, NpgsqlTransaction tx, MemberScope scope, Guid key) =>
        [.. await conn.QueryAsync<Member>($"""
            select m.user_id, u.email, u.display_name, m.role, m.created_at
              from {scope.Table} m join registry.users u on u.id = m.user_id
             where m.{scope.KeyColumn} = @key
             order by u.email
            """, new { key }, tx)];

    public static Task<Member?> GetAsync(NpgsqlConnection conn, NpgsqlTransaction tx, MemberScope scope, Guid key, Guid userId) =>
        conn.QuerySingleOrDefaultAsync<Member>($"""
            select m.user_id, u.email, u.display_name, m.role, m.created_at
              from {scope.Table} m join registry.users u on u.id = m.user_id
             where m.{scope.KeyColumn} = @key and m.user_id = @userId
            """, new { key, userId }, tx);

    /// <summary>A member of this org or project by email, as the caller may see it (RLS).</summary>
    public static Task<Member?> FindByEmailAsync(NpgsqlConnection conn, NpgsqlTransaction tx, MemberScope scope, Guid key, string email) =>
        conn.QuerySingleOrDefaultAsync<Member>($"""
            select m.user_id, u.email, u.display_name, m.role, m.created_at
              from {scope.Table} m join registry.users u on u.id = m.user_id
             where m.{scope.KeyColumn} = @key and lower(u.email) = lower(btrim(@email))
            """, new { key, email }, tx);

    public static Task AddAsync(NpgsqlConnection conn, NpgsqlTransaction tx, MemberScope scope, Guid key, Guid userId, string role) =>
        conn.ExecuteAsync($"insert into {scope.Table} ({scope.KeyColumn}, user_id, role) values (@key, @userId, @role)", new { key, userId, role }, tx);

    public static async Task<bool> SetRoleAsync(NpgsqlConnection conn, NpgsqlTransaction tx, MemberScope scope, Guid key, Guid userId, string role) =>
        await conn.ExecuteAsync($"update {scope.Table} set role = @role where {scope.KeyColumn} = @key and user_id = @userId", new { key, userId, role }, tx) == 1;

    public static async Task<bool> RemoveAsync(NpgsqlConnection conn, NpgsqlTransaction tx, MemberScope scope, Guid key, Guid userId) =>
        await conn.ExecuteAsync($"delete from {scope.Table} where {scope.KeyColumn} = @key and user_id = @userId", new { key, userId }, tx) == 1;

    /// <summary>The organisation's owners, counted once this transaction holds the organisation's owner-change lock (until it ends).</summary>
    /// <remarks>Two statements: the count's snapshot must be taken after the lock is granted, so that it sees what the
    /// transaction that held it committed.</remarks>
    public static async Task<int> LockedOwnerCountAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid orgId)
    {
        await conn.ExecuteAsync("select pg_advisory_xact_lock(hashtext('odooops.org_owners'), hashtext(@orgId::text))", new { orgId }, tx);
        return await conn.ExecuteScalarAsync<int>("select count(*) from registry.org_members where org_id = @orgId and role = 'owner'", new { orgId }, tx);
    }

    /// <summary>The organisation a user joined first (null: none), where entries about the user themself are logged.</summary>
    public static Task<Guid?> FirstOrgOfAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid userId) =>
        conn.ExecuteScalarAsync<Guid?>(
            "select org_id from registry.org_members where user_id = @userId order by created_at, org_id limit 1", new { userId }, tx);
}
