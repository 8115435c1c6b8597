using Dapper;
using Npgsql;

namespace OdooOps.Orgs;

internal sealed record OrgMembership(Guid Id, string Name, string Slug, string Role);

/// <summary>An organisation's settings, and the acting user's role in it.</summary>
internal sealed record OrgSettings(Guid Id, string Name, string Slug, string DefaultOdooVersion, string? Role);

/// <summary>Organisations as the acting user sees them (RLS: only their own).</summary>
internal static class OrgStore
{
    public static async Task<IReadOnlyList<OrgMembership>> ListAsync(NpgsqlConnection conn, NpgsqlTransaction tx) =>
        [.. await conn.QueryAsync<OrgMembership>("""
            select o.id, o.name, o.slug, m.role
              from registry.orgs o
              join registry.org_members m on m.org_id = o.id and m.user_id = ops.current_user_id()
             order by o.name
            """, transaction: tx)];

    /// <summary>An org by id or slug, when the acting user can see it.</summary>
    public static Task<Guid?> ResolveAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string idOrSlug) =>
        Guid.TryParse(idOrSlug, out var id)
            ? conn.ExecuteScalarAsync<Guid?>("select id from registry.orgs where id = @id", new { id }, tx)
            : conn.ExecuteScalarAsync<Guid?>("select id from registry.orgs where slug = @idOrSlug", new { idOrSlug }, tx);

    /// <summary>The organisation's settings, when the acting user can see it.</summary>
    public static Task<OrgSettings?> GetAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid orgId) =>
        conn.QuerySingleOrDefaultAsync<OrgSettings>(
            "select id, name, slug, default_odoo_version, ops.org_role(id) as role from registry.orgs where id = @orgId", new { orgId }, tx);

    public static Task<string?> RoleAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid orgId) =>
        conn.ExecuteScalarAsync<string?>("select ops.org_role(@orgId)", new { orgId }, tx);
}
