using Npgsql;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Projects;
using OdooOps.Server;

namespace OdooOps.Members;

/// <summary>
/// Adding, re-roling and removing members of an organisation or a project, for the members API and the admin verb
/// `odooops user create` alike: the same checks, each change with its audit row in the caller's transaction. An
/// organisation always keeps an owner. Who may do it is the database's to say (the memberships' RLS policies: admins,
/// and only owners touch the owner role); the system actor (the admin verbs, as the database owner) may do anything.
/// Admins add people by email (<see cref="AddByEmailAsync"/>): only a colleague of the same organisation joins at once;
/// anyone else is invited (<see cref="Invitations"/>) and joins by accepting.
/// </summary>
internal static class MemberAdmin
{
    public abstract record Outcome;
    public sealed record Done(Member Member) : Outcome;
    public sealed record Invited(Invitation Invitation) : Outcome;
    public sealed record NotFound : Outcome;
    public sealed record Refused(int Status, string Message) : Outcome;
    public sealed record Invalid(string Field, string Message) : Outcome;

    /// <summary>A role this kind of membership may hold (an organisation's: owner too), named by the field "role".</summary>
    public static Validation ValidRole(MemberScope scope, string? role) =>
        new Validation().Required("role", role).OneOf("role", role, Roles.Names(scope.Roles.Reverse()));

    /// <summary>What adding someone takes: an email and a role (the API's body, the Members page's form).</summary>
    public static Validation ValidAdd(MemberScope scope, string? email, string? role)
    {
        var v = ValidRole(scope, role).Required("email", email, 320);
        if (!v.Errors.ContainsKey("email")) v.Email("email", email);
        return v;
    }

    /// <summary>
    /// An admin adds someone by email. A member of the project's own organisation joins the project at once (the admin
    /// sees that organisation's members anyway). Everyone else is invited, whether an account has the email or not:
    /// the answer is the same for every email the admin cannot already see, so it tells nobody which emails exist, and
    /// nobody is put into an organisation they did not accept. Someone already a member here is Invalid, as before.
    /// </summary>
    public static async Task<Outcome> AddByEmailAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, MemberScope scope, Guid key, string email, Role role)
    {
        if (await MemberStore.FindByEmailAsync(c, t, scope, key, email) is { } existing)
            return new Invalid("email", $"{existing.Email} is already a member (as {existing.Role}).");
        if (scope == MemberScope.Org)
            return new Invited(await Invitations.SendAsync(c, t, actor, key, null, email, role.Name()));
        if (await ProjectStore.GetAsync(c, t, key) is not { } project) return new NotFound();
        if (await MemberStore.FindByEmailAsync(c, t, MemberScope.Org, project.OrgId, email) is { } colleague)
            return await AddAsync(c, t, actor, scope, key, colleague.UserId, role);
        return new Invited(await Invitations.SendAsync(c, t, actor, project.OrgId, key, email, role.Name()));
    }

    public static async Task<Outcome> AddAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, MemberScope scope, Guid key, Guid userId, Role role)
    {
        if (await MemberStore.GetAsync(c, t, scope, key, userId) is { } existing)
            return new Invalid("email", $"{existing.Email} is already a member (as {existing.Role}).");
        await MemberStore.AddAsync(c, t, scope, key, userId, role.Name());
        var member = (await MemberStore.GetAsync(c, t, scope, key, userId))!;
        await AuditAsync(c, t, actor, scope, key, "member.add", userId, null, member);
        return new Done(member);
    }

    public static async Task<Outcome> ChangeRoleAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, MemberScope scope, Guid key, Guid userId, Role role)
    {
        var before = await MemberStore.GetAsync(c, t, scope, key, userId);
        if (before is null) return new NotFound();
        if (await LastOwnerRefusalAsync(c, t, scope, key, before, role) is { } refused) return refused;
        if (!await MemberStore.SetRoleAsync(c, t, scope, key, userId, role.Name()))
            return new Refused(403, "Your role does not allow this change (only owners grant or change the owner role).");
        var after = (await MemberStore.GetAsync(c, t, scope, key, userId))!;
        await AuditAsync(c, t, actor, scope, key, "member.role", userId, new { before.Role }, new { after.Role });
        return new Done(after);
    }

    public static async Task<Outcome> RemoveAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, MemberScope scope, Guid key, Guid userId)
    {
        var before = await MemberStore.GetAsync(c, t, scope, key, userId);
        if (before is null) return new NotFound();
        if (await LastOwnerRefusalAsync(c, t, scope, key, before, null) is { } refused) return refused;
        // The audit row goes first: once members remove themselves, RLS no longer lets them write about it. A refused
        // removal rolls back with it (the caller's transaction ends in the refusal).
        await AuditAsync(c, t, actor, scope, key, "member.remove", userId, before, null);
        if (!await MemberStore.RemoveAsync(c, t, scope, key, userId))
            throw Server.RequestRefusedException.Forbidden("Your role does not allow this change.");
        return new Done(before);
    }

    /// <summary>
    /// The rule "an organisation keeps an owner", in this one place: an owner of an organisation may be demoted
    /// (<paramref name="role"/>) or removed (null) only while another owner remains. Owner changes of one organisation
    /// take turns (a transaction lock), so two owners demoting each other at once cannot both succeed.
    /// </summary>
    static async Task<Refused?> LastOwnerRefusalAsync(NpgsqlConnection c, NpgsqlTransaction t, MemberScope scope, Guid orgId, Member before, Role? role)
    {
        if (scope != MemberScope.Org || before.Role != Role.Owner.Name() || role == Role.Owner) return null;
        if (await MemberStore.LockedOwnerCountAsync(c, t, orgId) > 1) return null;
        return new Refused(409, role is null
            ? $"{before.Email} is the organisation's last owner and cannot be removed: make someone else owner first."
            : $"{before.Email} is the organisation's last owner and cannot be demoted: make someone else owner first.");
    }

    static async Task AuditAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, MemberScope scope, Guid key, string action, Guid target, object? before, object? after)
    {
        var (orgId, projectId) = scope == MemberScope.Org ? (key, (Guid?)null) : ((await ProjectStore.GetAsync(c, t, key))!.OrgId, key);
        await AuditLog.WriteAsync(c, t, actor, new(orgId, projectId, action, "user", target.ToString(), before, after));
    }
}
