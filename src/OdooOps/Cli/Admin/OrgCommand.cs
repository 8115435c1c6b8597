using System.CommandLine;
using OdooOps.Audit;
using OdooOps.Orgs;

namespace OdooOps.Cli.Admin;

/// <summary>`odooops org create`: an organisation, made by the server's administrator (<see cref="OrgCreate"/>).</summary>
internal static class OrgCommand
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
            var request = new OrgCreate.Request(parse.GetValue(name), parse.GetValue(slug));
            AdminSupport.Require(OrgCreate.Validate(request, new("--name", "--slug")));
            var outcome = await AdminSupport.InTransactionAsync(target.Owner, (c, t) => OrgCreate.ApplyAsync(c, t, Actor.System, request), ct);
            var org = outcome is OrgCreate.Created created ? created.Org : throw new ArgumentException(((OrgCreate.SlugTaken)outcome).Message);
            Console.WriteLine($"Created organisation '{org.Name}': slug {org.Slug}, id {org.Id}");
            return 0;
        });
    }
}
