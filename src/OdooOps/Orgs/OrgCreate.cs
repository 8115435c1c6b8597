using Dapper;
using Npgsql;
using OdooOps.Audit;
using OdooOps.Server;

namespace OdooOps.Orgs;

/// <summary>
/// Creating an organisation: the server's administrator does it (`odooops org create`, the system actor, as the
/// database owner); the request roles may not insert organisations at all. One transaction with its audit row. A
/// missing slug is made from the name by the table's trigger (acme, acme-2, …).
/// </summary>
internal static class OrgCreate
{
    public sealed record Request(string? Name, string? Slug);
    public sealed record FieldNames(string Name, string Slug);
    public sealed record Org(Guid Id, string Name, string Slug);

    public static Validation Validate(Request r, FieldNames fields) => new Validation().Required(fields.Name, r.Name?.Trim()).Slug(fields.Slug, r.Slug);

    public abstract record Outcome;
    public sealed record Created(Org Org) : Outcome;
    public sealed record SlugTaken(string Slug) : Outcome
    {
        public string Message => $"An organisation with the slug '{Slug}' already exists.";
    }

    public static async Task<Outcome> ApplyAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, Request r)
    {
        if (!actor.IsSystem) throw new InvalidOperationException("Organisations are created by the server's administrator.");
        if (r.Slug is { } wanted && await c.ExecuteScalarAsync<bool>("select exists (select 1 from registry.orgs where slug = @wanted)", new { wanted }, t))
            return new SlugTaken(wanted);
        var org = await c.QuerySingleAsync<Org>("insert into registry.orgs (name, slug) values (@name, @Slug) returning id, name, slug",
            new { name = r.Name!.Trim(), r.Slug }, t);
        await AuditLog.WriteAsync(c, t, actor, new(org.Id, null, "org.create", "org", org.Id.ToString(), After: org));
        return new Created(org);
    }
}
