using System.Net;
using Npgsql;
using OdooOps.Audit;
using OdooOps.Server;

namespace OdooOps.Projects;

/// <summary>
/// The rules and the write behind PATCH /api/ops/projects/{id}, shared with the console's settings page so both change a
/// project the same way: same checks, one transaction with its <c>project.update</c> audit row (before and after).
/// </summary>
public static class ProjectUpdate
{
    /// <summary>The names errors are reported under: the JSON fields for the API, the labels on the page.</summary>
    public sealed record FieldNames(string Name, string Slug, string RepoUrl, string RuntimeVersion);

    public static readonly FieldNames ApiFields = new("name", "slug", "repo_url", "runtime_version");

    /// <summary>A null field is left as it is; a given one must pass the same rules as at creation.</summary>
    public static Validation Validate(ProjectsApi.UpdateProject body, FieldNames fields)
    {
        var v = new Validation().Slug(fields.Slug, body.Slug).RuntimeVersion(fields.RuntimeVersion, body.RuntimeVersion);
        if (body.Name is not null) v.Required(fields.Name, body.Name);
        if (body.RepoUrl is not null) v.RepoUrl(fields.RepoUrl, body.RepoUrl);
        return v;
    }

    public abstract record Outcome;
    public sealed record Updated(Project Before, Project After) : Outcome;
    public sealed record NotFound : Outcome;
    public sealed record SlugTaken(string Slug) : Outcome
    {
        public string Message => $"The slug '{Slug}' is already used in this organisation.";
    }

    /// <summary>
    /// Applies <paramref name="body"/> (validated already) inside the caller's user transaction. NotFound also when RLS
    /// lets the caller see the project but not change it: the update then touches no row.
    /// </summary>
    public static async Task<Outcome> ApplyAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid userId, Guid projectId,
        ProjectsApi.UpdateProject body, IPAddress? ip)
    {
        var before = await ProjectStore.GetAsync(c, t, projectId);
        if (before is null) return new NotFound();
        if (body.Slug is not null && await ProjectStore.SlugTakenAsync(c, t, before.OrgId, body.Slug, projectId)) return new SlugTaken(body.Slug);
        var after = await ProjectStore.UpdateAsync(c, t, projectId, body.Name?.Trim(), body.Slug, body.RepoUrl?.Trim(), body.RuntimeVersion);
        if (after is null) return new NotFound();
        await AuditLog.WriteAsync(c, t, userId, new(after.OrgId, after.Id, "project.update", "project", after.Id.ToString(), before, after), ip);
        return new Updated(before, after);
    }
}
