using OdooOps.Audit;
using OdooOps.Database;

namespace OdooOps.Projects.Pages;

/// <summary>The "New project" form's fields, bound from the posted form (names Input.Name, Input.Slug, …).</summary>
internal sealed class NewProjectInput
{
    // Error keys double as the words the messages start with ("Slug must be …"), so the API's rules read well here.
    public const string NameField = "Name", SlugField = "Slug", RepoField = "Repository URL", VersionField = "Odoo version";

    public static readonly ProjectUpdate.FieldNames Fields = new(NameField, SlugField, RepoField, VersionField);

    public string? Name { get; set; }
    public string? Slug { get; set; }
    public string? RepoUrl { get; set; }
    /// <summary>Filled with the organisation's default Odoo version when the form is drawn.</summary>
    public string? RuntimeVersion { get; set; }

    /// <summary>A field left empty in the form means "not given": an empty slug is made from the name.</summary>
    ProjectCreate.Request Request() => new(Name, Blank(Slug), Blank(RepoUrl), Blank(RuntimeVersion));

    static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    /// <summary>The same rules as POST /api/ops/projects (<see cref="ProjectCreate"/>); an empty slug is derived from the name.</summary>
    public IDictionary<string, string[]> Validate(RepoSettings repos) => ProjectCreate.Validate(Request(), Fields, repos).Errors;

    public abstract record Outcome;
    public sealed record Created(string Slug) : Outcome;
    public sealed record Invalid(IDictionary<string, string[]> Errors) : Outcome;
    public sealed record Forbidden : Outcome;

    /// <summary>Creates the project through <see cref="ProjectCreate"/>, as POST /api/ops/projects does.</summary>
    public async Task<Outcome> CreateAsync(OpsDatabase db, RepoSettings repos, Actor actor, Guid orgId, CancellationToken ct)
    {
        if (Validate(repos) is { Count: > 0 } errors) return new Invalid(errors);
        return await db.AsUserAsync<Outcome>(actor.UserId, async (c, t) => await ProjectCreate.ApplyAsync(c, t, actor, orgId, Request()) switch
        {
            ProjectCreate.Created created => new Created(created.Project.Slug),
            ProjectCreate.SlugTaken taken => new Invalid(new Dictionary<string, string[]> { [SlugField] = [taken.Message] }),
            _ => new Forbidden(),
        }, ct);
    }
}
