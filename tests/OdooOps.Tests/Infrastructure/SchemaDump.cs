using Npgsql;
using OdooOps.Database;

namespace OdooOps.Tests.Infrastructure;

/// <summary>
/// `pg_dump --schema-only` of a database, without what differs between two dumps of the same schema: the dump's date
/// and the names of the database's own group roles (the files' ops_app / ops_service here).
/// </summary>
public static class SchemaDump
{
    public static async Task<string> OfAsync(NpgsqlConnectionStringBuilder cs)
    {
        var result = await PostgresBinaries.Locate().RunClientToolAsync("pg_dump",
            ["--schema-only", "--no-owner", "--host", cs.Host!, "--port", cs.Port.ToString(), "--username", cs.Username!, "--no-password", cs.Database!],
            new Dictionary<string, string> { ["PGPASSWORD"] = cs.Password ?? "" });
        Assert.True(result.ExitCode == 0, result.Describe());
        // Comments name the dump's own date and tool; \restrict carries a random key per dump (PostgreSQL 15.14+).
        var roles = RequestRoles.For(cs.Database!);
        return string.Join('\n', result.Output.Replace(roles.App, "ops_app").Replace(roles.Service, "ops_service").Split('\n')
            .Where(l => l.Length > 0 && !l.StartsWith("--", StringComparison.Ordinal) && !l.StartsWith("\\restrict", StringComparison.Ordinal)
                        && !l.StartsWith("\\unrestrict", StringComparison.Ordinal)));
    }
}
