using System.CommandLine;
using Dapper;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Members;
using OdooOps.Server;

namespace OdooOps.Cli.Admin;

/// <summary>`odooops user create|set-password`: accounts (<see cref="UserAccounts"/>) and memberships (<see cref="MemberAdmin"/>).</summary>
internal static class UserCommand
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
        var role = new Option<string>("--role") { Description = $"Their role there: {string.Join(", ", Roles.Names(Roles.All.Reverse()))}.", Required = true };
        var name = new Option<string?>("--name") { Description = "Display name (new accounts only)." };
        var stdin = SecretInput.PasswordStdinOption();
        var command = new Command("create",
            "Create an account in an organisation, or add an existing account to another organisation (its password is then left alone).")
            { email, org, role, name, stdin };
        return DbCommand.WithDatabase(command, async (parse, target, ct) =>
        {
            var userEmail = parse.GetValue(email)!.Trim();
            var roleName = parse.GetValue(role);
            AdminSupport.Require(new Validation().Email("--email", userEmail).OneOf("--role", roleName, Roles.Names(Roles.All.Reverse())));
            var orgSlug = parse.GetValue(org)!;
            var displayName = parse.GetValue(name)?.Trim() is { Length: > 0 } n ? n : null;

            string? password = null;
            var generated = false;
            var (existing, joined) = await AdminSupport.InTransactionAsync(target.Owner, async (c, t) =>
            {
                var orgId = await c.ExecuteScalarAsync<Guid?>("select id from registry.orgs where slug = @orgSlug", new { orgSlug }, t)
                    ?? throw new ArgumentException($"No organisation with the slug '{orgSlug}'.");
                var existing = await UserAccounts.FindAsync(c, t, userEmail);
                var account = existing;
                if (account is null)
                {
                    password = SecretInput.NewPassword(parse.GetValue(stdin), out generated);
                    account = await UserAccounts.CreateAsync(c, t, Actor.System, userEmail, displayName, password, orgId);
                }
                return await MemberAdmin.AddAsync(c, t, Actor.System, MemberScope.Org, orgId, account.Id, Roles.Parse(roleName)!.Value) switch
                {
                    MemberAdmin.Done done => (existing, done.Member),
                    MemberAdmin.Invalid invalid => throw new ArgumentException(invalid.Message),
                    var other => throw new InvalidOperationException($"Adding the member failed: {other}"),
                };
            }, ct);

            if (existing is null)
            {
                Console.WriteLine($"Created user {joined.Email} in '{orgSlug}' as {joined.Role} (id {joined.UserId}).");
                if (generated) Console.WriteLine($"Password (shown once): {password}");
            }
            else
                Console.WriteLine($"Added existing user {existing.Email} to '{orgSlug}' as {joined.Role}; their password is unchanged.");
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
            var userEmail = parse.GetValue(email)!.Trim();
            AdminSupport.Require(new Validation().Email("--email", userEmail));
            string? password = null;
            var generated = false;
            var account = await AdminSupport.InTransactionAsync(target.Owner, async (c, t) =>
            {
                var account = await UserAccounts.FindAsync(c, t, userEmail) ?? throw new ArgumentException($"No user with the email {userEmail}.");
                password = SecretInput.NewPassword(parse.GetValue(stdin), out generated);
                await UserAccounts.SetPasswordAsync(c, t, Actor.System, account, password);
                return account;
            }, ct);
            Console.WriteLine($"Password set for {account.Email}; any sign-in lockout is lifted.");
            if (generated) Console.WriteLine($"Password (shown once): {password}");
            return 0;
        });
    }
}
