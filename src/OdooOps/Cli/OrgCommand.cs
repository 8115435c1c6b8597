using System.CommandLine;
using Dapper;

namespace OdooOps.Cli;

/// <summary>`odooops org create`: an organisation, made by the server's administrator as the database owner.</summary>
public static class OrgCommand
{
    public static Command Create()
    {
        var org = new Command("org", "Manage organisations (as the database owner).");
        org.Add(CreateOrg());
        return org;
    }

    static Command CreateOrg()
    {
        var name = new Option<string>("--name") { Description = "The organisation's name (1–200 characters).", Required = true };
        var slug = new Option<string?>("--slug") { Description = "Its slug in URLs (default: made from the name)." };
        var command = new Command("create", "Create an organisation; prints its id and slug. Add people with `odooops user create`.") { name, slug };
        return DbCommand.WithDatabase(command, async (parse, target, ct) =>
        {
            var orgName = parse.GetValue(name)?.Trim() ?? "";
            if (orgName.Length is < 1 or > 200) throw new ArgumentException("--name must be 1 to 200 characters.");
            var orgSlug = AdminSupport.ValidSlug(parse.GetValue(slug));

            await using var conn = await AdminSupport.OpenAsync(target.Owner, ct);
            await using var tx = await conn.BeginTransactionAsync(ct);
            if (orgSlug is not null && await conn.ExecuteScalarAsync<bool>(
                    "select exists (select 1 from registry.orgs where slug = @orgSlug)", new { orgSlug }, tx))
                throw new ArgumentException($"An organisation with the slug '{orgSlug}' already exists.");
            // A null slug is filled from the name by the table's trigger (acme, acme-2, …).
            var (id, createdSlug) = await conn.QuerySingleAsync<(Guid, string)>(
                "insert into registry.orgs (name, slug) values (@orgName, @orgSlug) returning id, slug", new { orgName, orgSlug }, tx);
            await AdminSupport.WriteAuditAsync(conn, tx, id, "org.create", "org", id, new { id, name = orgName, slug = createdSlug });
            await tx.CommitAsync(ct);
            Console.WriteLine($"Created organisation '{orgName}': slug {createdSlug}, id {id}");
            return 0;
        });
    }
}
