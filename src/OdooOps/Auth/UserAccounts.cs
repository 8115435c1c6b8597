using System.Text.RegularExpressions;
using Dapper;
using Npgsql;
using OdooOps.Audit;
using OdooOps.Members;
using OdooOps.Server;

namespace OdooOps.Auth;

/// <summary>
/// Accounts, made and reset by the server's administrator (`odooops user create|set-password`, the system actor, as
/// the database owner): each change with its audit row, in the organisation the account joins or else its first one.
/// Joining an organisation is <see cref="MemberAdmin"/>'s, as for the members API.
/// </summary>
internal static partial class UserAccounts
{
    public sealed record Account(Guid Id, string Email, bool IsActive);

    /// <summary>An email address as sign-in accepts it: something@somewhere, at most 320 characters.</summary>
    public static Validation Email(this Validation v, string field, string? value)
    {
        var e = value?.Trim() ?? "";
        if (e.Length > 320 || !EmailPattern().IsMatch(e)) v.Add(field, $"{field} '{value}' is not an email address.");
        return v;
    }

    /// <summary>The account behind an email (compared case-insensitively), locked for the transaction.</summary>
    public static Task<Account?> FindAsync(NpgsqlConnection c, NpgsqlTransaction t, string email) =>
        c.QuerySingleOrDefaultAsync<Account>(
            "select id, email, is_active from registry.users where lower(email) = lower(@email) for update", new { email = email.Trim() }, t);

    public static async Task<Account> CreateAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, string email, string? displayName, string password, Guid orgId)
    {
        var account = await c.QuerySingleAsync<Account>("""
            insert into registry.users (email, display_name, password_hash) values (@email, @displayName, @hash)
            returning id, email, is_active
            """, new { email = email.Trim(), displayName, hash = Passwords.Hash(password) }, t);
        await AuditLog.WriteAsync(c, t, actor, new(orgId, null, "user.create", "user", account.Id.ToString(),
            After: new { account.Email, display_name = displayName }));
        return account;
    }

    /// <summary>A new password. The database then ends the user's sessions and lifts their sign-in lockouts (users_end_sessions).</summary>
    public static async Task SetPasswordAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, Account account, string password)
    {
        await c.ExecuteAsync("update registry.users set password_hash = @hash where id = @Id",
            new { hash = Passwords.Hash(password), account.Id }, t);
        await AuditLog.WriteAsync(c, t, actor, new(await MemberStore.FirstOrgOfAsync(c, t, account.Id), null, "user.set_password", "user",
            account.Id.ToString(), After: new { account.Email, lockout_cleared = true, sessions_ended = true }));
    }

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+$")] private static partial Regex EmailPattern();
}
