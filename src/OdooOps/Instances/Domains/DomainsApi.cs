using System.Security.Claims;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Branches;
using OdooOps.Database;
using OdooOps.Instances.Proxy;

namespace OdooOps.Instances.Domains;

/// <summary>
/// /api/ops/projects/{projectId}/branches/{branchId}/domains — a branch's custom domains: list (members), add, check,
/// remove (developer and above; tester on staging and development branches), each write audited.
/// </summary>
internal static class DomainsApi
{
    public sealed record DomainList(IReadOnlyList<InstanceDomain> Domains);
    public sealed record AddDomain(string? Name);

    public static RouteGroupBuilder MapDomainsApi(this RouteGroupBuilder api)
    {
        var domains = api.MapGroup("/projects/{projectId:guid}/branches/{branchId:guid}/domains").WithTags("Domains");
        domains.MapGet("/", List).RequireAuthorization(AccessPolicies.Project(Role.Viewer))
            .WithSummary("A branch's custom domains, with whether each is verified (points at this server) and why not");
        domains.MapPost("/", Add).RequireAuthorization(AccessPolicies.Project(Role.Tester), AccessPolicies.Write)
            .WithSummary("Add a custom domain {\"name\": \"erp.example.com\"} (unverified until checked); 409 when any organisation uses the name");
        domains.MapDelete("/{domainId:guid}", Remove).RequireAuthorization(AccessPolicies.Project(Role.Tester), AccessPolicies.Write)
            .WithSummary("Remove a custom domain: the name stops reaching the branch's instance at once");
        domains.MapPost("/{domainId:guid}/check", Check).RequireAuthorization(AccessPolicies.Project(Role.Tester), AccessPolicies.Write)
            .WithSummary("Check that the name resolves to this server (OPS_PUBLIC_ADDRESSES); verified names are routed to the branch's instance");
        return api;
    }

    static async Task<Results<Ok<DomainList>, NotFound>> List(Guid projectId, Guid branchId, ClaimsPrincipal user, OpsDatabase db, CancellationToken ct) =>
        await db.AsUserAsync(user.UserId(), async (c, t) =>
            await BranchStore.GetAsync(c, t, projectId, branchId) is null ? null : await DomainStore.ListAsync(c, t, projectId, branchId), ct) is { } list
            ? TypedResults.Ok(new DomainList(list))
            : TypedResults.NotFound();

    static async Task<Results<Created<InstanceDomain>, ValidationProblem, ProblemHttpResult>> Add(Guid projectId, Guid branchId, AddDomain body,
        ClaimsPrincipal user, OpsDatabase db, InstanceProxySettings proxy, HttpContext http, CancellationToken ct) =>
        await DomainAdd.AddAsync(db, proxy, Actor.Of(user, http), projectId, branchId, body.Name, ct) switch
        {
            DomainOutcome.Done d => TypedResults.Created($"/api/ops/projects/{projectId}/branches/{branchId}/domains/{d.Domain.Id}", d.Domain),
            DomainOutcome.Invalid i => TypedResults.ValidationProblem(i.Errors),
            var other => Problem(other),
        };

    static async Task<Results<NoContent, ProblemHttpResult>> Remove(Guid projectId, Guid branchId, Guid domainId, ClaimsPrincipal user, OpsDatabase db,
        HttpContext http, CancellationToken ct) =>
        await DomainRemove.RemoveAsync(db, Actor.Of(user, http), projectId, branchId, domainId, ct) switch
        {
            DomainOutcome.Done => TypedResults.NoContent(),
            var other => Problem(other),
        };

    static async Task<Results<Ok<InstanceDomain>, ProblemHttpResult>> Check(Guid projectId, Guid branchId, Guid domainId, ClaimsPrincipal user,
        OpsDatabase db, DomainChecker checker, HttpContext http, CancellationToken ct) =>
        await DomainCheck.CheckAsync(db, checker, Actor.Of(user, http), projectId, branchId, domainId, ct) switch
        {
            DomainOutcome.Done d => TypedResults.Ok(d.Domain),
            var other => Problem(other),
        };

    static ProblemHttpResult Problem(DomainOutcome outcome) => outcome switch
    {
        DomainOutcome.Taken t => TypedResults.Problem($"{t.Name} is already used.", statusCode: StatusCodes.Status409Conflict, title: "Already used"),
        DomainOutcome.Refused r => TypedResults.Problem(r.Message, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden"),
        _ => TypedResults.Problem("No such branch or domain in this project, or it is not yours to see.", statusCode: StatusCodes.Status404NotFound, title: "Not found"),
    };
}

internal static class DomainsSetup
{
    /// <summary>The checker is made at start (a bad OPS_PUBLIC_ADDRESSES stops serve); a test's own stays.</summary>
    public static IServiceCollection AddInstanceDomains(this IServiceCollection services, IConfiguration config)
    {
        services.TryAddSingleton(DomainChecker.From(config));
        return services;
    }
}
