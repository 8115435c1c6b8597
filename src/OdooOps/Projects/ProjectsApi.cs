using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Projects;

/// <summary>/api/ops/projects — the seed's step 8 (`{"projects": [...]}`) and project CRUD.</summary>
public static class ProjectsApi
{
    public sealed record ProjectList(IReadOnlyList<ProjectSummary> Projects);
    public sealed record CreateProject(Guid? OrgId, string? Org, string? Name, string? Slug, string? RepoUrl, string? RuntimeVersion);
    public sealed record UpdateProject(string? Name, string? Slug, string? RepoUrl, string? RuntimeVersion);

    public static RouteGroupBuilder MapProjectsApi(this RouteGroupBuilder api)
    {
        var projects = api.MapGroup("/projects").WithTags("Projects");
        projects.MapGet("/", List).WithSummary("Projects the caller can see, newest activity first");
        projects.MapPost("/", Create).RequireAuthorization(AccessPolicies.Write).WithSummary("Create a project (org owner or admin)");
        projects.MapGet("/{projectId:guid}", Get).RequireAuthorization(AccessPolicies.Project("viewer"));
        projects.MapPatch("/{projectId:guid}", Update).RequireAuthorization(AccessPolicies.Project("admin"), AccessPolicies.Write);
        projects.MapDelete("/{projectId:guid}", Delete).RequireAuthorization(AccessPolicies.Project("admin"), AccessPolicies.Write)
            .WithSummary("Delete a project with its branches, builds and metrics (org owner or admin)");
        return api;
    }

    static async Task<Results<Ok<ProjectList>, ValidationProblem>> List(ClaimsPrincipal user, OpsDatabase db, string? org, CancellationToken ct)
    {
        Guid? orgId = null;
        if (org is not null)
        {
            orgId = await db.AsUserAsync(user.UserId(), (c, t) => Orgs.OrgStore.ResolveAsync(c, t, org), ct);
            if (orgId is null) return TypedResults.ValidationProblem(new Validation().Add("org", "No such organisation.").Errors);
        }
        var list = await db.AsUserAsync(user.UserId(), (c, t) => ProjectStore.ListAsync(c, t, orgId), ct);
        return TypedResults.Ok(new ProjectList(list));
    }

    static async Task<Results<Ok<ProjectSummary>, NotFound>> Get(Guid projectId, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) =>
        await db.AsUserAsync(user.UserId(), (c, t) => ProjectStore.GetSummaryAsync(c, t, projectId), ct) is { } p
            ? TypedResults.Ok(p)
            : TypedResults.NotFound();

    static async Task<Results<Created<ProjectSummary>, ValidationProblem, ProblemHttpResult>> Create(
        CreateProject body, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        var v = new Validation()
            .Required("name", body.Name).Slug("slug", body.Slug).RepoUrl("repo_url", body.RepoUrl).RuntimeVersion("runtime_version", body.RuntimeVersion);
        if (body.OrgId is null && string.IsNullOrWhiteSpace(body.Org)) v.Add("org_id", "org_id (or org, the organisation's slug) is required.");
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);

        var userId = user.UserId();
        return await db.AsUserAsync<Results<Created<ProjectSummary>, ValidationProblem, ProblemHttpResult>>(userId, async (c, t) =>
        {
            var orgId = body.OrgId ?? await Orgs.OrgStore.ResolveAsync(c, t, body.Org!);
            if (orgId is null || await Orgs.OrgStore.RoleAsync(c, t, orgId.Value) is not { } role)
                return TypedResults.ValidationProblem(new Validation().Add(body.OrgId is null ? "org" : "org_id", "No such organisation.").Errors);
            if (AccessPolicies.Rank(role) < AccessPolicies.Rank("admin"))
                return TypedResults.Problem("Only organisation owners and admins can create projects.", statusCode: 403, title: "Forbidden");
            var slug = body.Slug ?? await ProjectStore.SlugFromNameAsync(c, t, body.Name!);
            if (await ProjectStore.SlugTakenAsync(c, t, orgId.Value, slug))
                return TypedResults.ValidationProblem(new Validation().Add("slug", $"The slug '{slug}' is already used in this organisation.").Errors);
            var project = await ProjectStore.CreateAsync(c, t, orgId.Value, body.Name!.Trim(), slug, body.RepoUrl!.Trim(), body.RuntimeVersion ?? "19.0");
            await AuditLog.WriteAsync(c, t, userId, new(project.OrgId, project.Id, "project.create", "project", project.Id.ToString(), After: project), http.Connection.RemoteIpAddress);
            var summary = (await ProjectStore.GetSummaryAsync(c, t, project.Id))!;
            return TypedResults.Created($"/api/ops/projects/{project.Id}", summary);
        }, ct);
    }

    static async Task<Results<Ok<ProjectSummary>, ValidationProblem, NotFound>> Update(
        Guid projectId, UpdateProject body, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        var v = ProjectUpdate.Validate(body, ProjectUpdate.ApiFields);
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);
        var userId = user.UserId();
        return await db.AsUserAsync<Results<Ok<ProjectSummary>, ValidationProblem, NotFound>>(userId, async (c, t) =>
            await ProjectUpdate.ApplyAsync(c, t, userId, projectId, body, http.Connection.RemoteIpAddress) switch
            {
                ProjectUpdate.Updated => TypedResults.Ok((await ProjectStore.GetSummaryAsync(c, t, projectId))!),
                ProjectUpdate.SlugTaken taken => TypedResults.ValidationProblem(new Validation().Add(ProjectUpdate.ApiFields.Slug, taken.Message).Errors),
                _ => TypedResults.NotFound(),
            }, ct);
    }

    static async Task<Results<NoContent, ProblemHttpResult>> Delete(Guid projectId, ClaimsPrincipal user, OpsDatabase db, HttpContext http, CancellationToken ct)
    {
        var userId = user.UserId();
        return await db.AsUserAsync<Results<NoContent, ProblemHttpResult>>(userId, async (c, t) =>
        {
            var before = await ProjectStore.GetAsync(c, t, projectId);
            if (before is null || !await ProjectStore.DeleteAsync(c, t, projectId))
                return TypedResults.Problem("Only organisation owners and admins can delete a project.", statusCode: 403, title: "Forbidden");
            await AuditLog.WriteAsync(c, t, userId, new(before.OrgId, null, "project.delete", "project", projectId.ToString(), Before: before), http.Connection.RemoteIpAddress);
            return TypedResults.NoContent();
        }, ct);
    }
}
