using Dapper;
using Npgsql;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Projects;
using OdooOps.Server;

namespace OdooOps.Orgs;

/// <summary>
/// Changing an organisation's name, slug and default Odoo version, for PATCH /api/ops/orgs/{id}, the organisation
/// settings page and (through the API) `odooops orgs update`: the same checks, one transaction with its
/// <c>org.update</c> audit row (before and after). Owners and admins of the organisation may (RLS says the same).
/// </summary>
internal static class OrgUpdate
{
    /// <summary>The names errors are reported under: the JSON fields for the API, the labels on the page.</summary>
    public sealed record FieldNames(string Name, string Slug, string DefaultOdooVersion);

    public static readonly FieldNames ApiFields = new("name", "slug", "default_odoo_version");

    /// <summary>A change: null leaves that setting as it is.</summary>
    public sealed record Change(string? Name, string? Slug, string? DefaultOdooVersion);

    public static Validation Validate(Change r, FieldNames fields)
    {
        var v = new Validation().Slug(fields.Slug, r.Slug).RuntimeVersion(fields.DefaultOdooVersion, r.DefaultOdooVersion);
        if (r.Name is not null) v.Required(fields.Name, r.Name);
        return v;
    }

    public abstract record Outcome;
    public sealed record Updated(OrgSettings Before, OrgSettings After) : Outcome;
    public sealed record NotFound : Outcome;
    public sealed record Forbidden(string Role) : Outcome
    {
        public string Message => $"Only owners and admins of the organisation can change its settings; you are {Role}.";
    }
    public sealed record SlugTaken(string Slug) : Outcome
    {
        public string Message => $"The slug '{Slug}' is already used by another organisation.";
    }

    /// <summary>Applies <paramref name="r"/> (validated already) inside the caller's transaction; only a change is audited.</summary>
    public static async Task<Outcome> ApplyAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, Guid orgId, Change r)
    {
        if (await OrgStore.GetAsync(c, t, orgId) is not { } before) return new NotFound();
        if (!before.Role.AtLeast(Role.Admin)) return new Forbidden(before.Role ?? "no member");
        await t.SaveAsync("org_update");
        try
        {
            // Slugs are unique across every organisation, most of which this user cannot see: the index says whether it is free.
            await c.ExecuteAsync("""
                update registry.orgs
                   set name = coalesce(@name, name), slug = coalesce(@Slug, slug), default_odoo_version = coalesce(@DefaultOdooVersion, default_odoo_version)
                 where id = @orgId
                """, new { orgId, name = r.Name?.Trim(), r.Slug, r.DefaultOdooVersion }, t);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            await t.RollbackAsync("org_update");
            return new SlugTaken(r.Slug!);
        }
        var after = (await OrgStore.GetAsync(c, t, orgId))!;
        if (after != before)
            await AuditLog.WriteAsync(c, t, actor, new(orgId, null, "org.update", "org", orgId.ToString(),
                new { before.Name, before.Slug, before.DefaultOdooVersion }, new { after.Name, after.Slug, after.DefaultOdooVersion }));
        return new Updated(before, after);
    }
}
