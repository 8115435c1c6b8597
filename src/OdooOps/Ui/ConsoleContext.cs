using Dapper;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Orgs;

namespace OdooOps.Ui;

/// <summary>
/// What every console page needs about the signed-in user — their organisations, the current one, their name —
/// loaded once per request and shared by the layout and the page (both await the same task).
/// </summary>
internal sealed class ConsoleContext(IHttpContextAccessor accessor, OpsDatabase db)
{
    /// <param name="Invitations">Open invitations to organisations and projects, which the top bar links to.</param>
    /// <param name="IsSystemAdmin">The user administers the server itself (ops.is_system_admin): the System section.</param>
    public sealed record State(Guid UserId, string Email, string? DisplayName, IReadOnlyList<OrgMembership> Orgs, OrgMembership? CurrentOrg,
        int Invitations = 0, bool IsSystemAdmin = false);

    Task<State?>? _state;

    public Task<State?> GetAsync() => _state ??= LoadAsync();

    async Task<State?> LoadAsync()
    {
        var http = accessor.HttpContext!;
        if (http.User.UserIdOrNull() is not { } userId) return null;
        var (orgs, email, name, invitations, admin) = await db.AsUserAsync(userId, async (c, t) =>
        {
            var orgs = await OrgStore.ListAsync(c, t);
            var (email, name, admin) = await c.QuerySingleAsync<(string, string?, bool)>(
                "select email, display_name, ops.is_system_admin() from registry.users where id = @userId", new { userId }, t);
            var invitations = await c.ExecuteScalarAsync<int>("select count(*) from ops.my_invitations()", transaction: t);
            return (orgs, email, name, invitations, admin);
        }, http.RequestAborted);
        return new State(userId, email, name, orgs, UiSections.PickOrg(orgs, http.Request.Query["org"].FirstOrDefault(), http), invitations, admin);
    }
}
