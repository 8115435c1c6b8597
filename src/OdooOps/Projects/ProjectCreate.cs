using Npgsql;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Orgs;
using OdooOps.Server;

namespace OdooOps.Projects;

/// <summary>
/// Creating a project, for POST /api/ops/projects and the console's "New project" form (the CLI goes through the API):
/// the same checks, one transaction with its <c>project.create</c> audit row. Org owners and admins may; an empty slug
/// is made from the name.
/// </summary>
internal static class ProjectCreate
{
    public sealed record Request(string? Name, string? Slug, string? RepoUrl, string? RuntimeVersion);

    /// <summary>A null slug is made from the name and a null version is the organisation's default; a given one must be valid as given.</summary>
    public static Validation Validate(Request r, ProjectUpdate.FieldNames fields, RepoSettings repos) => new Validation()
        .Required(fields.Name, r.Name).Slug(fields.Slug, r.Slug).RepoUrl(fields.RepoUrl, r.RepoUrl, repos.AllowLocal)
        .RuntimeVersion(fields.RuntimeVersion, r.RuntimeVersion);

    public abstract record Outcome;
    public sealed record Created(Project Project) : Outcome;
    public sealed record Forbidden : Outcome
    {
        public const string Message = "Only organisation owners and admins can create projects.";
    }
    public sealed record SlugTaken(string Slug) : Outcome
    {
        public string Message => $"The slug '{Slug}' is already used in this organisation.";
    }

    /// <summary>Creates the project (validated already) in <paramref name="orgId"/>, inside the caller's transaction.</summary>
    public static async Task<Outcome> ApplyAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, Guid orgId, Request r)
    {
        if (!actor.IsSystem && !(await OrgStore.RoleAsync(c, t, orgId)).AtLeast(Role.Admin)) return new Forbidden();
        var slug = r.Slug ?? await ProjectStore.SlugFromNameAsync(c, t, r.Name!);
        if (await ProjectStore.SlugTakenAsync(c, t, orgId, slug)) return new SlugTaken(slug);
        Project project;
        await t.SaveAsync("project_create");
        try
        {
            project = await ProjectStore.CreateAsync(c, t, orgId, r.Name!.Trim(), slug, r.RepoUrl!.Trim(), r.RuntimeVersion);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // Someone created the same slug between our check and our insert.
            await t.RollbackAsync("project_create");
            return new SlugTaken(slug);
        }
        await AuditLog.WriteAsync(c, t, actor, new(project.OrgId, project.Id, "project.create", "project", project.Id.ToString(), After: project));
        return new Created(project);
    }
}
