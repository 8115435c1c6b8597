using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Projects;

/// <summary>/api/ops/projects — the seed's step 8 (`{"projects": [...]}`) and project CRUD.</summary>
internal static class ProjectsApi
{
    public sealed record ProjectList(IReadOnlyList<ProjectSummary> Projects);
    public sealed record CreateProject(Guid? OrgId, string? Org, string? Name, string? Slug, string? RepoUrl, string? RuntimeVersion);
    public sealed record UpdateProject(string? Name, string? Slug, string? RepoUrl, string? RuntimeVersion);

    public static RouteGroupBuilder MapProjectsApi(this RouteGroupBuilder api)
    {
        var projects = api.MapGroup("/projects").WithTags("Projects");
        projects.MapGet("/", List).WithSummary("Projects the caller can see, newest activity first");
        projects.MapPost("/", Create).RequireAuthorization(AccessPolicies.Write).WithSummary("Create a project (org owner or admin)");
        projects.MapGet("/{projectId:guid}", Get).RequireAuthorization(AccessPolicies.Project(Role.Viewer));
        projects.MapPatch("/{projectId:guid}", Update).RequireAuthorization(AccessPolicies.Project(Role.Admin), AccessPolicies.Write);
        projects.MapDelete("/{projectId:guid}", Delete).RequireAuthorization(AccessPolicies.Project(Role.Admin), AccessPolicies.Write)
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
        CreateProject body, ClaimsPrincipal user, OpsDatabase db, RepoSettings repos, HttpContext http, CancellationToken ct)
    {
        var request = new ProjectCreate.Request(body.Name, body.Slug, body.RepoUrl, body.RuntimeVersion);
        var v = ProjectCreate.Validate(request, ProjectUpdate.ApiFields, repos);
        if (body.OrgId is null && string.IsNullOrWhiteSpace(body.Org)) v.Add("org_id", "org_id (or org, the organisation's slug) is required.");
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);

        var actor = Actor.Of(user, http);
        return await db.AsUserAsync<Results<Created<ProjectSummary>, ValidationProblem, ProblemHttpResult>>(actor.UserId, async (c, t) =>
        {
            var orgId = body.OrgId ?? await Orgs.OrgStore.ResolveAsync(c, t, body.Org!);
            if (orgId is null || await Orgs.OrgStore.RoleAsync(c, t, orgId.Value) is null)
                return TypedResults.ValidationProblem(new Validation().Add(body.OrgId is null ? "org" : "org_id", "No such organisation.").Errors);
            return await ProjectCreate.ApplyAsync(c, t, actor, orgId.Value, request) switch
            {
                ProjectCreate.Created created => TypedResults.Created($"/api/ops/projects/{created.Project.Id}",
                    (await ProjectStore.GetSummaryAsync(c, t, created.Project.Id))!),
                ProjectCreate.SlugTaken taken => TypedResults.ValidationProblem(new Validation().Add(ProjectUpdate.ApiFields.Slug, taken.Message).Errors),
                _ => TypedResults.Problem(ProjectCreate.Forbidden.Message, statusCode: 403, title: "Forbidden"),
            };
        }, ct);
    }

    static async Task<Results<Ok<ProjectSummary>, ValidationProblem, NotFound, ProblemHttpResult>> Update(
        Guid projectId, UpdateProject body, ClaimsPrincipal user, OpsDatabase db, RepoSettings repos, HttpContext http, CancellationToken ct)
    {
        var v = ProjectUpdate.Validate(body, ProjectUpdate.ApiFields, repos);
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);
        var actor = Actor.Of(user, http);
        return await db.AsUserAsync<Results<Ok<ProjectSummary>, ValidationProblem, NotFound, ProblemHttpResult>>(actor.UserId, async (c, t) =>
            await ProjectUpdate.ApplyAsync(c, t, actor, projectId, body) switch
            {
                ProjectUpdate.Updated => TypedResults.Ok((await ProjectStore.GetSummaryAsync(c, t, projectId))!),
                ProjectUpdate.SlugTaken taken => TypedResults.ValidationProblem(new Validation().Add(ProjectUpdate.ApiFields.Slug, taken.Message).Errors),
                ProjectUpdate.Forbidden f => TypedResults.Problem($"This needs the admin role or higher; you are {f.Role}.", statusCode: 403, title: "Forbidden"),
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
            await AuditLog.WriteAsync(c, t, Actor.User(userId, http.Connection.RemoteIpAddress), new(before.OrgId, null, "project.delete", "project", projectId.ToString(), Before: before));
            return TypedResults.NoContent();
        }, ct);
    }
}
