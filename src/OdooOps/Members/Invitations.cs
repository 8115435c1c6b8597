using Dapper;
using Npgsql;
using OdooOps.Audit;

namespace OdooOps.Members;

/// <summary>An invitation as its organisation's (or project's) admins see it.</summary>
public sealed record Invitation(Guid Id, Guid OrgId, Guid? ProjectId, string Email, string Role, Guid? InvitedBy, DateTime CreatedAt, DateTime ExpiresAt);

/// <summary>An invitation as the invitee sees it: where to, as what, from whom.</summary>
internal sealed record PendingInvitation(Guid Id, Guid OrgId, string OrgName, string OrgSlug, Guid? ProjectId, string? ProjectName, string Role,
    string? InvitedBy, DateTime CreatedAt, DateTime ExpiresAt);

/// <summary>
/// Invitations to an organisation or a project, by email. Sending, renewing and withdrawing them is
/// <see cref="MemberAdmin"/>'s (the admins' side, under RLS, audited here); accepting and declining are the invitee's,
/// through ops.accept_invitation and ops.decline_invitation (which check the email and write the audit row).
/// </summary>
internal static class Invitations
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(14);

    const string Columns = "id, org_id, project_id, email, role, invited_by, created_at, expires_at";

    public static async Task<IReadOnlyList<Invitation>> ListAsync(NpgsqlConnection c, NpgsqlTransaction t, MemberScope scope, Guid key) =>
        [.. await c.QueryAsync<Invitation>($"""
            select {Columns} from ops.member_invitations
             where {(scope == MemberScope.Org ? "org_id = @key and project_id is null" : "project_id = @key")} and expires_at > now()
             order by created_at, id
            """, new { key }, t)];

    /// <summary>A new invitation, or the open one for the same place and email renewed (new role, inviter and expiry).</summary>
    public static async Task<Invitation> SendAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, Guid orgId, Guid? projectId, string email, string role)
    {
        var invitation = await c.QuerySingleAsync<Invitation>($"""
            insert into ops.member_invitations (org_id, project_id, email, role, invited_by, expires_at)
            values (@orgId, @projectId, lower(btrim(@email)), @role, @invitedBy, now() + @Lifetime)
            on conflict (org_id, project_id, email) do update
               set role = excluded.role, invited_by = excluded.invited_by, created_at = now(), expires_at = excluded.expires_at
            returning {Columns}
            """, new { orgId, projectId, email, role, invitedBy = actor.UserId, Lifetime }, t);
        await AuditLog.WriteAsync(c, t, actor, new(orgId, projectId, "member.invite", "invitation", invitation.Id.ToString(),
            After: new { invitation.Email, invitation.Role, invitation.ExpiresAt }));
        return invitation;
    }

    /// <summary>Withdraws an invitation of this place; false when there is none (or it is not the caller's to see).</summary>
    public static async Task<bool> WithdrawAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, MemberScope scope, Guid key, Guid invitationId)
    {
        var gone = await c.QuerySingleOrDefaultAsync<Invitation>($"""
            delete from ops.member_invitations
             where id = @invitationId and {(scope == MemberScope.Org ? "org_id = @key and project_id is null" : "project_id = @key")}
            returning {Columns}
            """, new { invitationId, key }, t);
        if (gone is null) return false;
        await AuditLog.WriteAsync(c, t, actor, new(gone.OrgId, gone.ProjectId, "member.invite_withdraw", "invitation", gone.Id.ToString(),
            Before: new { gone.Email, gone.Role }));
        return true;
    }

    public static async Task<IReadOnlyList<PendingInvitation>> MineAsync(NpgsqlConnection c, NpgsqlTransaction t) =>
        [.. await c.QueryAsync<PendingInvitation>(
            "select id, org_id, org_name, org_slug, project_id, project_name, role, invited_by, created_at, expires_at from ops.my_invitations()",
            transaction: t)];

    public sealed record Joined(Guid OrgId, Guid? ProjectId, string Role);

    /// <summary>The invitee joins (404 through P0002 when it is not theirs, expired or unknown).</summary>
    public static Task<Joined> AcceptAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor invitee, Guid invitationId) =>
        c.QuerySingleAsync<Joined>("select org_id, project_id, role from ops.accept_invitation(@invitationId, @ip::inet)",
            new { invitationId, ip = invitee.Ip?.ToString() }, t);

    public static Task DeclineAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor invitee, Guid invitationId) =>
        c.ExecuteAsync("select ops.decline_invitation(@invitationId, @ip::inet)", new { invitationId, ip = invitee.Ip?.ToString() }, t);
}
