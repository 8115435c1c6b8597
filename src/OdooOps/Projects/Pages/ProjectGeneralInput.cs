using OdooOps.Audit;
using OdooOps.Database;

namespace OdooOps.Projects.Pages;

/// <summary>
/// The settings page's "General" form (names Input.Name, Input.Slug, Input.RepoUrl, Input.RuntimeVersion): every field
/// is posted, so each is checked, with the rules and the write of PATCH /api/ops/projects/{id} (<see cref="ProjectUpdate"/>).
/// </summary>
internal sealed class ProjectGeneralInput
{
    // Error keys double as the words the messages start with ("Repository URL must be …"), as in the new-project form.
    public static readonly ProjectUpdate.FieldNames Fields =
        NewProjectInput.Fields;

    public string? Name { get; set; }
    public string? Slug { get; set; }
    public string? RepoUrl { get; set; }
    public string? RuntimeVersion { get; set; }

    public static ProjectGeneralInput From(ProjectSummary project) =>
        new() { Name = project.Name, Slug = project.Slug, RepoUrl = project.RepoUrl, RuntimeVersion = project.RuntimeVersion };

    /// <summary>
    /// Blank is "" rather than null: a field left empty is an error ("… is required"), not "leave it as it is". The
    /// repository URL as it is stored is left alone, so a project made before today's URL rules can still be renamed.
    /// </summary>
    ProjectsApi.UpdateProject Body(string currentRepoUrl)
    {
        var repo = (RepoUrl ?? "").Trim();
        return new((Name ?? "").Trim(), (Slug ?? "").Trim(), repo == currentRepoUrl ? null : repo, (RuntimeVersion ?? "").Trim());
    }

    public abstract record Outcome;
    public sealed record Saved(string Slug) : Outcome;
    public sealed record Invalid(IDictionary<string, string[]> Errors) : Outcome;
    public sealed record Forbidden(string Role) : Outcome;
    public sealed record NotFound : Outcome;

    public async Task<Outcome> SaveAsync(OpsDatabase db, RepoSettings repos, Actor actor, ProjectSummary project, CancellationToken ct)
    {
        var (projectId, body) = (project.Id, Body(project.RepoUrl));
        if (ProjectUpdate.Validate(body, Fields, repos) is { IsValid: false } v) return new Invalid(v.Errors);
        return await db.AsUserAsync<Outcome>(actor.UserId, async (c, t) =>
            await ProjectUpdate.ApplyAsync(c, t, actor, projectId, body) switch
            {
                ProjectUpdate.Updated updated => new Saved(updated.After.Slug),
                ProjectUpdate.SlugTaken taken => new Invalid(new Dictionary<string, string[]> { [Fields.Slug] = [taken.Message] }),
                ProjectUpdate.Forbidden forbidden => new Forbidden(forbidden.Role),
                _ => new NotFound(),
            }, ct);
    }
}
