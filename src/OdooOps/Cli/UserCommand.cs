using System.CommandLine;
using Dapper;
using OdooOps.Auth;

namespace OdooOps.Cli;

/// <summary>`odooops user create|set-password`: accounts and memberships, as the database owner.</summary>
public static class UserCommand
{
    public static Command Create()
    {
        var user = new Command("user", "Manage user accounts (as the database owner).");
        user.Add(CreateUser());
        user.Add(SetPassword());
        return user;
    }

    static Command CreateUser()
    {
        var email = new Option<string>("--email") { Description = "The person's email (their sign-in name).", Required = true };
        var org = new Option<string>("--org") { Description = "Slug of the organisation to add them to.", Required = true };
        var role = new Option<string>("--role") { Description = $"Their role there: {string.Join(", ", AdminSupport.OrgRoles)}.", Required = true };
        var name = new Option<string?>("--name") { Description = "Display name (new accounts only)." };
        var stdin = SecretInput.PasswordStdinOption();
        var command = new Command("create",
            "Create an account in an organisation, or add an existing account to another organisation (its password is then left alone).")
            { email, org, role, name, stdin };
        return DbCommand.WithDatabase(command, async (parse, target, ct) =>
        {
            var userEmail = AdminSupport.ValidEmail(parse.GetValue(email));
            var userRole = AdminSupport.ValidRole(parse.GetValue(role));
            var orgSlug = parse.GetValue(org)!;
            var displayName = parse.GetValue(name)?.Trim() is { Length: > 0 } n ? n : null;

            await using var conn = await AdminSupport.OpenAsync(target.Owner, ct);
            await using var tx = await conn.BeginTransactionAsync(ct);
            var orgId = await conn.ExecuteScalarAsync<Guid?>("select id from registry.orgs where slug = @orgSlug", new { orgSlug }, tx)
                ?? throw new ArgumentException($"No organisation with the slug '{orgSlug}'.");

            var existing = await AdminSupport.FindUserAsync(conn, tx, userEmail);
            string? password = null;
            var generated = false;
            Guid userId;
            if (existing is null)
            {
                password = SecretInput.NewPassword(parse.GetValue(stdin), out generated);
                userId = await conn.ExecuteScalarAsync<Guid>(
                    "insert into registry.users (email, display_name, password_hash) values (@userEmail, @displayName, @hash) returning id",
                    new { userEmail, displayName, hash = Passwords.Hash(password) }, tx);
            }
            else
            {
                userId = existing.Id;
                var current = await conn.ExecuteScalarAsync<string?>(
                    "select role from registry.org_members where org_id = @orgId and user_id = @userId", new { orgId, userId }, tx);
                if (current is not null) throw new ArgumentException($"{existing.Email} is already a member of '{orgSlug}' (as {current}).");
            }
            await conn.ExecuteAsync("insert into registry.org_members (org_id, user_id, role) values (@orgId, @userId, @userRole)",
                new { orgId, userId, userRole }, tx);
            await AdminSupport.WriteAuditAsync(conn, tx, orgId, existing is null ? "user.create" : "member.add", "user", userId,
                new { email = existing?.Email ?? userEmail, org = orgSlug, role = userRole });
            await tx.CommitAsync(ct);

            if (existing is null)
            {
                Console.WriteLine($"Created user {userEmail} in '{orgSlug}' as {userRole} (id {userId}).");
                if (generated) Console.WriteLine($"Password (shown once): {password}");
            }
            else
                Console.WriteLine($"Added existing user {existing.Email} to '{orgSlug}' as {userRole}; their password is unchanged.");
            return 0;
        });
    }

    static Command SetPassword()
    {
        var email = new Option<string>("--email") { Description = "The account's email.", Required = true };
        var stdin = SecretInput.PasswordStdinOption();
        var command = new Command("set-password", "Set an account's password and lift a sign-in lockout.") { email, stdin };
        return DbCommand.WithDatabase(command, async (parse, target, ct) =>
        {
            var userEmail = AdminSupport.ValidEmail(parse.GetValue(email));
            await using var conn = await AdminSupport.OpenAsync(target.Owner, ct);
            await using var tx = await conn.BeginTransactionAsync(ct);
            var user = await AdminSupport.FindUserAsync(conn, tx, userEmail)
                ?? throw new ArgumentException($"No user with the email {userEmail}.");
            var password = SecretInput.NewPassword(parse.GetValue(stdin), out var generated);
            await conn.ExecuteAsync("""
                update registry.users set password_hash = @hash, failed_logins = 0, locked_until = null where id = @Id
                """, new { hash = Passwords.Hash(password), user.Id }, tx);
            await AdminSupport.WriteAuditAsync(conn, tx, await AdminSupport.AnyOrgOfAsync(conn, tx, user.Id), "user.set_password", "user", user.Id,
                new { email = user.Email, lockout_cleared = true });
            await tx.CommitAsync(ct);
            Console.WriteLine($"Password set for {user.Email}; any sign-in lockout is lifted.");
            if (generated) Console.WriteLine($"Password (shown once): {password}");
            return 0;
        });
    }
}
