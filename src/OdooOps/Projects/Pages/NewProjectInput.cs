using Npgsql;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Orgs;
using OdooOps.Server;

namespace OdooOps.Projects.Pages;

/// <summary>The "New project" form's fields, bound from the posted form (names Input.Name, Input.Slug, …).</summary>
public sealed class NewProjectInput
{
    // Error keys double as the words the messages start with ("Slug must be …"), so the API's rules read well here.
    public const string NameField = "Name", SlugField = "Slug", RepoField = "Repository URL", VersionField = "Odoo version";

    public string? Name { get; set; }
    public string? Slug { get; set; }
    public string? RepoUrl { get; set; }
    public string? RuntimeVersion { get; set; } = "19.0";

    static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    /// <summary>The same rules as POST /api/ops/projects (Server/Validation.cs); an empty slug is derived from the name.</summary>
    public IDictionary<string, string[]> Validate() => new Validation()
        .Required(NameField, Name).Slug(SlugField, Blank(Slug)).RepoUrl(RepoField, Blank(RepoUrl)).RuntimeVersion(VersionField, Blank(RuntimeVersion))
        .Errors;

    public abstract record Outcome;
    public sealed record Created(string Slug) : Outcome;
    public sealed record Invalid(IDictionary<string, string[]> Errors) : Outcome;
    public sealed record Forbidden : Outcome;

    /// <summary>Creates the project and its audit row in one transaction, exactly as ProjectsApi.Create does.</summary>
    public async Task<Outcome> CreateAsync(OpsDatabase db, Guid userId, Guid orgId, System.Net.IPAddress? ip, CancellationToken ct)
    {
        if (Validate() is { Count: > 0 } errors) return new Invalid(errors);
        try
        {
            return await db.AsUserAsync<Outcome>(userId, async (c, t) =>
            {
                if (AccessPolicies.Rank(await OrgStore.RoleAsync(c, t, orgId)) < AccessPolicies.Rank("admin")) return new Forbidden();
                var slug = Blank(Slug) ?? await ProjectStore.SlugFromNameAsync(c, t, Name!);
                if (await ProjectStore.SlugTakenAsync(c, t, orgId, slug)) return SlugTaken(slug);
                var project = await ProjectStore.CreateAsync(c, t, orgId, Name!.Trim(), slug, RepoUrl!.Trim(), Blank(RuntimeVersion) ?? "19.0");
                await AuditLog.WriteAsync(c, t, userId, new(project.OrgId, project.Id, "project.create", "project", project.Id.ToString(), After: project), ip);
                return new Created(project.Slug);
            }, ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // Someone created the same slug between our check and our insert.
            return SlugTaken(Blank(Slug) ?? "");
        }
    }

    static Invalid SlugTaken(string slug) =>
        new(new Validation().Add(SlugField, $"The slug '{slug}' is already used in this organisation.").Errors);
}
