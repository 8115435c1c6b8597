using Dapper;
using Npgsql;
using OdooOps.Auth;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Cli.Admin;

/// <summary>
/// `odooops org create`, `user create|set-password` and `token create` as an administrator runs them. The tests
/// share one database (they run one after another) and use names of their own.
/// </summary>
public sealed class AdminVerbTests(ClassDatabase db) : IClassFixture<ClassDatabase>, IDisposable
{
    readonly CliSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    (NpgsqlConnectionStringBuilder Owner, string Url) Database => (db.Owner, CliSandbox.Url(db.Owner));

    static async Task<T> ScalarAsync<T>(NpgsqlConnectionStringBuilder owner, string sql, object? args = null)
    {
        await using var conn = await Accounts.OpenAsync(owner);
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    /// <summary>Every row the admin verbs could write, so a failed verb can be shown to have written nothing.</summary>
    static Task<string> FootprintAsync(NpgsqlConnectionStringBuilder owner) => ScalarAsync<string>(owner, """
        select (select count(*) from registry.orgs) || '/' || (select count(*) from registry.users) || '/' ||
               (select count(*) from registry.org_members) || '/' || (select count(*) from ops.api_tokens) || '/' ||
               (select count(*) from ops.audit_log) || '/' || (select coalesce(string_agg(password_hash, ','), '') from registry.users)
        """);

    static void AssertOneLineError(CliRunner.Result r, string contains)
    {
        Assert.NotEqual(0, r.ExitCode);
        var lines = r.Error.Trim().Split('\n');
        Assert.True(lines.Length == 1, r.Error);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(contains, lines[0]);
    }

    [Fact]
    public async Task Org_create_prints_id_and_slug_and_audits_as_system()
    {
        var (owner, url) = Database;
        var r = await _sandbox.RunAsync(["org", "create", "--name", "Acme Odoo Partners", "--database-url", url]);
        Assert.True(r.ExitCode == 0, r.Error);
        await using var conn = await Accounts.OpenAsync(owner);
        var (id, slug) = await conn.QuerySingleAsync<(string, string)>("select id::text, slug from registry.orgs where name = 'Acme Odoo Partners'");
        Assert.Equal("acme-odoo-partners", slug);
        Assert.Contains($"slug {slug}, id {id}", r.Output);
        Assert.Equal(1, await ScalarAsync<long>(owner,
            "select count(*) from ops.audit_log where action = 'org.create' and actor = 'system' and actor_user_id is null and org_id = @id::uuid and target_id = @id",
            new { id }));

        var named = await _sandbox.RunAsync(["org", "create", "--name", "Beta", "--slug", "beta-co", "--database-url", url]);
        Assert.True(named.ExitCode == 0, named.Error);
        Assert.Contains("slug beta-co", named.Output);
    }

    [Theory]
    [InlineData("already exists", "org", "create", "--name", "Again", "--slug", "taken")]
    [InlineData("--slug", "org", "create", "--name", "X", "--slug", "Bad Slug")]
    [InlineData("No organisation", "user", "create", "--email", "a@x.test", "--org", "no-such-org", "--role", "admin")]
    [InlineData("--role must be one of", "user", "create", "--email", "a@x.test", "--org", "taken", "--role", "superuser")]
    [InlineData("is not an email", "user", "create", "--email", "not-an-email", "--org", "taken", "--role", "viewer")]
    [InlineData("already a member", "user", "create", "--email", "member@x.test", "--org", "taken", "--role", "viewer")]
    [InlineData("No user", "user", "set-password", "--email", "ghost@x.test")]
    [InlineData("--expires must be", "token", "create", "--email", "member@x.test", "--scope", "read", "--expires", "30m")]
    [InlineData("is required", "user", "create", "--email", "a@x.test", "--org", "taken")]
    public async Task Bad_input_is_one_line_and_writes_nothing(string message, params string[] args)
    {
        var (owner, url) = Database;
        if (!await ScalarAsync<bool>(owner, "select exists (select 1 from registry.orgs where slug = 'taken')"))
            await Accounts.CreateUserAsync(owner, "member@x.test", await Accounts.CreateOrgAsync(owner, "taken"), "developer");
        var before = await FootprintAsync(owner);

        var r = await _sandbox.RunAsync([.. args, "--database-url", url], new Dictionary<string, string> { ["OPS_NEW_PASSWORD"] = "a-long-enough-password" });
        AssertOneLineError(r, message);
        Assert.Equal(before, await FootprintAsync(owner));
    }

    [Fact]
    public async Task User_create_with_a_generated_password_then_stdin_then_env_and_adding_an_existing_user_keeps_the_password()
    {
        var (owner, url) = Database;
        var acme = await Accounts.CreateOrgAsync(owner, "u-acme");
        var beta = await Accounts.CreateOrgAsync(owner, "u-beta");

        var generated = await _sandbox.RunAsync(["user", "create", "--email", "Gen@Acme.test", "--org", "u-acme", "--role", "owner", "--name", "Gen Owner", "--database-url", url]);
        Assert.True(generated.ExitCode == 0, generated.Error);
        var password = generated.Output.Split('\n').Single(l => l.StartsWith("Password (shown once): "))["Password (shown once): ".Length..].Trim();
        var hash = await ScalarAsync<string>(owner, "select password_hash from registry.users where email = 'Gen@Acme.test'");
        Assert.True(Passwords.Verify(hash, password));
        Assert.Equal("owner", await ScalarAsync<string>(owner,
            "select m.role from registry.org_members m join registry.users u on u.id = m.user_id where u.email = 'Gen@Acme.test' and m.org_id = @acme", new { acme }));
        Assert.Equal("Gen Owner", await ScalarAsync<string>(owner, "select display_name from registry.users where email = 'Gen@Acme.test'"));

        var piped = await _sandbox.RunAsync(["user", "create", "--email", "dev@acme.test", "--org", "u-acme", "--role", "developer", "--password-stdin", "--database-url", url],
            stdin: "piped-password-123\n");
        Assert.True(piped.ExitCode == 0, piped.Error);
        Assert.DoesNotContain("piped-password-123", piped.Output);
        Assert.True(Passwords.Verify(await ScalarAsync<string>(owner, "select password_hash from registry.users where email = 'dev@acme.test'"), "piped-password-123"));

        var fromEnv = await _sandbox.RunAsync(["user", "create", "--email", "env@acme.test", "--org", "u-acme", "--role", "tester", "--database-url", url],
            new Dictionary<string, string> { ["OPS_NEW_PASSWORD"] = "env-password-123" });
        Assert.True(fromEnv.ExitCode == 0, fromEnv.Error);
        Assert.DoesNotContain("Password (shown once)", fromEnv.Output);
        Assert.True(Passwords.Verify(await ScalarAsync<string>(owner, "select password_hash from registry.users where email = 'env@acme.test'"), "env-password-123"));

        // The same person joins a second organisation (email matched case-insensitively): no new account, no new password.
        var joined = await _sandbox.RunAsync(["user", "create", "--email", "gen@acme.test", "--org", "u-beta", "--role", "viewer", "--database-url", url],
            new Dictionary<string, string> { ["OPS_NEW_PASSWORD"] = "must-not-be-used" });
        Assert.True(joined.ExitCode == 0, joined.Error);
        Assert.Contains("password is unchanged", joined.Output);
        Assert.Equal(hash, await ScalarAsync<string>(owner, "select password_hash from registry.users where lower(email) = 'gen@acme.test'"));
        Assert.Equal(1, await ScalarAsync<long>(owner, "select count(*) from registry.users where lower(email) = 'gen@acme.test'"));
        Assert.Equal(1, await ScalarAsync<long>(owner, "select count(*) from registry.org_members where org_id = @beta and role = 'viewer'", new { beta }));
        Assert.Equal("3/1", await ScalarAsync<string>(owner, """
            select count(*) filter (where action = 'user.create' and org_id = @acme) || '/' || count(*) filter (where action = 'member.add' and org_id = @beta)
              from ops.audit_log where actor = 'system' and actor_user_id is null
            """, new { acme, beta }));
    }

    [Fact]
    public async Task Set_password_replaces_the_hash_lifts_lockouts_and_ends_sessions()
    {
        var (owner, url) = Database;
        var org = await Accounts.CreateOrgAsync(owner, "pw-acme");
        var userId = await Accounts.CreateUserAsync(owner, "locked@acme.test", org, "admin");
        await using (var conn = await Accounts.OpenAsync(owner))
            await conn.ExecuteAsync("""
                insert into ops_private.sign_in_failures (user_id, address, failures, locked_until) values (@userId, '198.51.100.1', 0, now() + interval '10 minutes');
                insert into ops_private.sessions (user_id) values (@userId);
                """, new { userId });

        var r = await _sandbox.RunAsync(["user", "set-password", "--email", "LOCKED@acme.test", "--password-stdin", "--database-url", url], stdin: "brand-new-password\n");
        Assert.True(r.ExitCode == 0, r.Error);
        await using var check = await Accounts.OpenAsync(owner);
        var row = await check.QuerySingleAsync<(string Hash, long Failures, long Sessions)>("""
            select password_hash, (select count(*) from ops_private.sign_in_failures where user_id = @userId),
                   (select count(*) from ops_private.sessions where user_id = @userId)
              from registry.users where id = @userId
            """, new { userId });
        Assert.True(Passwords.Verify(row.Hash, "brand-new-password"));
        Assert.False(Passwords.Verify(row.Hash, Accounts.Password));
        Assert.Equal((0L, 0L), (row.Failures, row.Sessions));
        Assert.Equal(1, await check.ExecuteScalarAsync<long>(
            "select count(*) from ops.audit_log where action = 'user.set_password' and org_id = @org and target_id = @id", new { org, id = userId.ToString() }));

        var tooShort = await _sandbox.RunAsync(["user", "set-password", "--email", "locked@acme.test", "--password-stdin", "--database-url", url], stdin: "short\n");
        AssertOneLineError(tooShort, "at least 8");
        Assert.True(Passwords.Verify(await check.ExecuteScalarAsync<string>("select password_hash from registry.users where id = @userId", new { userId }) ?? "", "brand-new-password"));
    }

    [Fact]
    public async Task Token_create_prints_a_working_token_once_with_its_lifetime()
    {
        var (owner, url) = Database;
        var org = await Accounts.CreateOrgAsync(owner, "tk-acme");
        var userId = await Accounts.CreateUserAsync(owner, "ci@acme.test", org, "developer");

        var r = await _sandbox.RunAsync(["token", "create", "--email", "ci@acme.test", "--scope", "write", "--expires", "30d", "--name", "ci", "--database-url", url]);
        Assert.True(r.ExitCode == 0, r.Error);
        var token = r.Output.Trim();
        Assert.StartsWith(AccessTokens.PersonalPrefix, token);
        Assert.DoesNotContain(token, r.Error);

        await using var conn = await Accounts.OpenAsync(owner);
        var row = await conn.QuerySingleAsync<(Guid UserId, string Name, string Prefix, string Scope, double Days)>("""
            select user_id, name, token_prefix, scope, extract(epoch from expires_at - now()) / 86400 from ops.api_tokens where token_hash = @hash
            """, new { hash = AccessTokens.Hash(token) });
        Assert.Equal((userId, "ci", AccessTokens.Preview(token), "write"), (row.UserId, row.Name, row.Prefix, row.Scope));
        Assert.InRange(row.Days, 29.9, 30.0);
        // The service role's own look-up (what every API request uses) accepts it.
        Assert.Equal(userId, await conn.ExecuteScalarAsync<Guid>("select user_id from ops.authenticate_api_token(@hash)", new { hash = AccessTokens.Hash(token) }));
        Assert.Equal(1, await conn.ExecuteScalarAsync<long>(
            "select count(*) from ops.audit_log where action = 'token.create' and actor = 'system' and org_id = @org and after->>'scope' = 'write'", new { org }));

        var forever = await _sandbox.RunAsync(["token", "create", "--email", "ci@acme.test", "--scope", "read", "--expires", "never", "--database-url", url]);
        Assert.True(forever.ExitCode == 0, forever.Error);
        Assert.Null(await conn.ExecuteScalarAsync<DateTime?>("select expires_at from ops.api_tokens where token_hash = @hash",
            new { hash = AccessTokens.Hash(forever.Output.Trim()) }));
        var hours = await _sandbox.RunAsync(["token", "create", "--email", "ci@acme.test", "--scope", "read", "--expires", "12h", "--database-url", url]);
        Assert.InRange(await conn.ExecuteScalarAsync<double>("select extract(epoch from expires_at - now()) / 3600 from ops.api_tokens where token_hash = @hash",
            new { hash = AccessTokens.Hash(hours.Output.Trim()) }), 11.9, 12.0);
    }
}
