using Npgsql;
using OdooOps.Auth;
using OdooOps.Database;

namespace OdooOps.Projects.Pages;

/// <summary>
/// The settings page's "General" form (names Input.Name, Input.Slug, Input.RepoUrl, Input.RuntimeVersion): every field
/// is posted, so each is checked, with the rules and the write of PATCH /api/ops/projects/{id} (<see cref="ProjectUpdate"/>).
/// </summary>
public sealed class ProjectGeneralInput
{
    // Error keys double as the words the messages start with ("Repository URL must be …"), as in the new-project form.
    public static readonly ProjectUpdate.FieldNames Fields =
        new(NewProjectInput.NameField, NewProjectInput.SlugField, NewProjectInput.RepoField, NewProjectInput.VersionField);

    public string? Name { get; set; }
    public string? Slug { get; set; }
    public string? RepoUrl { get; set; }
    public string? RuntimeVersion { get; set; }

    public static ProjectGeneralInput From(ProjectSummary project) =>
        new() { Name = project.Name, Slug = project.Slug, RepoUrl = project.RepoUrl, RuntimeVersion = project.RuntimeVersion };

    /// <summary>Blank is "" rather than null: a field left empty is an error ("… is required"), not "leave it as it is".</summary>
    ProjectsApi.UpdateProject Body() =>
        new((Name ?? "").Trim(), (Slug ?? "").Trim(), (RepoUrl ?? "").Trim(), (RuntimeVersion ?? "").Trim());

    public abstract record Outcome;
    public sealed record Saved(string Slug) : Outcome;
    public sealed record Invalid(IDictionary<string, string[]> Errors) : Outcome;
    public sealed record Forbidden(string Role) : Outcome;
    public sealed record NotFound : Outcome;

    public async Task<Outcome> SaveAsync(OpsDatabase db, Guid userId, Guid projectId, System.Net.IPAddress? ip, CancellationToken ct)
    {
        var body = Body();
        if (ProjectUpdate.Validate(body, Fields) is { IsValid: false } v) return new Invalid(v.Errors);
        try
        {
            return await db.AsUserAsync<Outcome>(userId, async (c, t) =>
            {
                // The role may have changed since the page was drawn; RLS would refuse too, but silently.
                var role = await ProjectStore.RoleAsync(c, t, projectId);
                if (role is null) return new NotFound();
                if (AccessPolicies.Rank(role) < AccessPolicies.Rank("admin")) return new Forbidden(role);
                return await ProjectUpdate.ApplyAsync(c, t, userId, projectId, body, ip) switch
                {
                    ProjectUpdate.Updated updated => new Saved(updated.After.Slug),
                    ProjectUpdate.SlugTaken taken => SlugTaken(taken),
                    _ => new NotFound(),
                };
            }, ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return SlugTaken(new ProjectUpdate.SlugTaken(body.Slug!)); // taken between our check and our update
        }
    }

    static Invalid SlugTaken(ProjectUpdate.SlugTaken taken) =>
        new(new Dictionary<string, string[]> { [Fields.Slug] = [taken.Message] });
}
