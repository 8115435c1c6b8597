using Npgsql;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Server;

namespace OdooOps.Projects;

/// <summary>
/// The rules and the write behind PATCH /api/ops/projects/{id}, shared with the console's settings page so both change a
/// project the same way: same checks, one transaction with its <c>project.update</c> audit row (before and after).
/// </summary>
internal static class ProjectUpdate
{
    /// <summary>The names errors are reported under: the JSON fields for the API, the labels on the page.</summary>
    public sealed record FieldNames(string Name, string Slug, string RepoUrl, string RuntimeVersion);

    public static readonly FieldNames ApiFields = new("name", "slug", "repo_url", "runtime_version");

    /// <summary>A null field is left as it is; a given one must pass the same rules as at creation.</summary>
    public static Validation Validate(ProjectsApi.UpdateProject body, FieldNames fields, RepoSettings repos)
    {
        var v = new Validation().Slug(fields.Slug, body.Slug).RuntimeVersion(fields.RuntimeVersion, body.RuntimeVersion);
        if (body.Name is not null) v.Required(fields.Name, body.Name);
        if (body.RepoUrl is not null) v.RepoUrl(fields.RepoUrl, body.RepoUrl, repos.AllowLocal);
        return v;
    }

    public abstract record Outcome;
    public sealed record Updated(Project Before, Project After) : Outcome;
    public sealed record NotFound : Outcome;
    public sealed record Forbidden(string Role) : Outcome;
    public sealed record SlugTaken(string Slug) : Outcome
    {
        public string Message => $"The slug '{Slug}' is already used in this organisation.";
    }

    /// <summary>
    /// Applies <paramref name="body"/> (validated already) inside the caller's transaction. Project admins may; a user
    /// who cannot see the project finds none.
    /// </summary>
    public static async Task<Outcome> ApplyAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, Guid projectId,
        ProjectsApi.UpdateProject body)
    {
        if (!actor.IsSystem)
        {
            // The role may have changed since a page was drawn; RLS would refuse too, but silently.
            var role = await ProjectStore.RoleAsync(c, t, projectId);
            if (role is null) return new NotFound();
            if (!role.AtLeast(Role.Admin)) return new Forbidden(role);
        }
        var before = await ProjectStore.GetAsync(c, t, projectId);
        if (before is null) return new NotFound();
        if (body.Slug is not null && await ProjectStore.SlugTakenAsync(c, t, before.OrgId, body.Slug, projectId)) return new SlugTaken(body.Slug);
        Project? after;
        await t.SaveAsync("project_update");
        try
        {
            after = await ProjectStore.UpdateAsync(c, t, projectId, body.Name?.Trim(), body.Slug, body.RepoUrl?.Trim(), body.RuntimeVersion);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            await t.RollbackAsync("project_update"); // taken between our check and our update
            return new SlugTaken(body.Slug!);
        }
        if (after is null) return new NotFound();
        await AuditLog.WriteAsync(c, t, actor, new(after.OrgId, after.Id, "project.update", "project", after.Id.ToString(), before, after));
        if (before.RepoUrl != after.RepoUrl) await RepoCredentials.ForgetOnNewHostAsync(c, t, actor, projectId, before.RepoUrl, after.RepoUrl);
        return new Updated(before, after);
    }
}
