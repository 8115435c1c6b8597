using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Audit;
using OdooOps.Auth;

namespace OdooOps.Projects;

/// <summary>
/// /api/ops/projects/{projectId}/repo-credential — the git credential builds of the project fetch with (project and
/// organisation admins): GET says which kind is set, by whom named and when; PUT sets one (a token with an optional user
/// name, or an SSH private key); DELETE removes it. Write-only: no answer ever holds the secret.
/// </summary>
internal static class RepoCredentialsApi
{
    public sealed record RepoCredentialBody(string? Kind, string? Username, string? Secret);
    public sealed record RepoCredentialInfo(bool Set, string? Kind, string? Username, DateTime? SetAt)
    {
        public static RepoCredentialInfo Of(RepoCredentialStatus s) => new(s.Set, s.Kind, s.Username, s.SetAt);
    }

    public static RouteGroupBuilder MapRepoCredentialsApi(this RouteGroupBuilder api)
    {
        const string Path = "/projects/{projectId:guid}/repo-credential";
        api.MapGet(Path, GetAsync).RequireAuthorization(AccessPolicies.Project(Role.Admin)).WithTags("Projects")
            .WithSummary("Which repository credential builds fetch with (kind, user name, when set) — never the secret");
        api.MapPut(Path, PutAsync).RequireAuthorization(AccessPolicies.Project(Role.Admin), AccessPolicies.Write).WithTags("Projects")
            .WithSummary("Set the repository credential: {\"kind\": \"token\", \"username\": …, \"secret\": …} or {\"kind\": \"ssh_key\", \"secret\": <private key>}");
        api.MapDelete(Path, DeleteAsync).RequireAuthorization(AccessPolicies.Project(Role.Admin), AccessPolicies.Write).WithTags("Projects")
            .WithSummary("Remove the repository credential: builds fetch without one");
        return api;
    }

    static async Task<Ok<RepoCredentialInfo>> GetAsync(Guid projectId, ClaimsPrincipal user, RepoCredentials credentials, CancellationToken ct) =>
        TypedResults.Ok(RepoCredentialInfo.Of(await credentials.StatusAsync(user.UserId(), projectId, ct)));

    static async Task<Results<Ok<RepoCredentialInfo>, ValidationProblem>> PutAsync(Guid projectId, RepoCredentialBody body, ClaimsPrincipal user,
        RepoCredentials credentials, HttpContext http, CancellationToken ct)
    {
        var v = RepoCredentialRules.Validate(new(body.Kind, body.Username, body.Secret), RepoCredentialRules.ApiFields, out var credential);
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors, "Nothing was changed.");
        return TypedResults.Ok(RepoCredentialInfo.Of(await credentials.SetAsync(Actor.Of(user, http), projectId, credential!, ct)));
    }

    static async Task<NoContent> DeleteAsync(Guid projectId, ClaimsPrincipal user, RepoCredentials credentials, HttpContext http, CancellationToken ct)
    {
        await credentials.ClearAsync(Actor.Of(user, http), projectId, ct);
        return TypedResults.NoContent();
    }
}
