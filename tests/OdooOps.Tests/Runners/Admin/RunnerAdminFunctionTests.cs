using Dapper;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Runners.Admin;

/// <summary>
/// The runner admin functions called through ops_app by every kind of caller, the second enforcement behind the API's
/// route policies: org owner/admin may (system admin for shared runners), lower roles get 42501, strangers P0002.
/// Every call runs in a transaction that is rolled back, so the class database stays as built.
/// </summary>
public sealed class RunnerAdminFunctionTests(TenantDatabase db) : IClassFixture<TenantDatabase>
{
    public enum Caller { Owner, Admin, Developer, Tester, Viewer, ProjectMember, OtherTenant, Anonymous }

    public static TheoryData<Caller> Callers => [.. Enum.GetValues<Caller>()];

    Guid? User(Caller c) => c switch
    {
        Caller.OtherTenant => db.B.OwnerId,
        Caller.Anonymous => null,
        _ => db.A.User(Enum.Parse<TenantRole>(c.ToString())),
    };

    // A project-only member is no member of the org: its runners and tokens do not exist for them.
    static string Expected(Caller c) => c switch
    {
        Caller.Owner or Caller.Admin => "ok",
        Caller.Developer or Caller.Tester or Caller.Viewer => "42501",
        _ => "P0002",
    };

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task Disabling_an_org_runner_needs_its_org_admin_and_ends_its_leases(Caller caller)
    {
        await using var session = await db.AsUserAsync(User(caller));

        var attempt = await session.TryQueryAsync("select ops.set_runner_disabled(@RunnerId, true) as at", db.A, keep: true);

        Assert.True((attempt.Ok ? "ok" : attempt.SqlState) == Expected(caller), $"{caller}: {attempt}");
        if (!attempt.Ok) return;
        Assert.NotNull(attempt.Value![0].at);
        // Seen from the same transaction: disabled, and the lease it held has run out.
        Assert.True(await session.ScalarAsync<bool>("select disabled_at is not null from ops.runners where id = @RunnerId", db.A));
        Assert.Equal(1, await session.Connection.ExecuteScalarAsync<int>(
            "select count(*) from ops.run_queue where lease_owner = @RunnerId and lease_until <= now()", db.A, session.Transaction));
        Assert.Null(await session.ScalarAsync<DateTime?>("select ops.set_runner_disabled(@RunnerId, false)", db.A));
    }

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task Revoking_a_registration_token_needs_its_org_admin(Caller caller)
    {
        await using var session = await db.AsUserAsync(User(caller));

        var attempt = await session.TryQueryAsync("select ops.revoke_runner_registration_token(@OrgId, @RunnerTokenId) as at", db.A, keep: true);

        Assert.True((attempt.Ok ? "ok" : attempt.SqlState) == Expected(caller), $"{caller}: {attempt}");
        if (!attempt.Ok) return;
        DateTime first = attempt.Value![0].at;
        Assert.Equal(first, await session.ScalarAsync<DateTime>("select ops.revoke_runner_registration_token(@OrgId, @RunnerTokenId)", db.A));
        // B's token named under A's org does not exist.
        var other = await session.TryQueryAsync("select ops.revoke_runner_registration_token(@OrgId, @RunnerTokenId)",
            new { db.A.OrgId, db.B.RunnerTokenId });
        Assert.Equal("P0002", other.SqlState);
    }

    [Fact]
    public async Task Shared_runners_and_tokens_are_for_system_administrators()
    {
        var shared = new { db.Tenants.SharedRunnerId, db.Tenants.SharedRunnerTokenId };
        await using (var admin = await db.AsUserAsync(db.A.OwnerId))
        {
            Assert.Equal("42501", (await admin.TryQueryAsync("select ops.set_runner_disabled(@SharedRunnerId, true)", shared)).SqlState);
            Assert.Equal("P0002", (await admin.TryQueryAsync("select ops.revoke_runner_registration_token(null, @SharedRunnerTokenId)", shared)).SqlState);
        }
        await using (var anonymous = await db.AsUserAsync(null))
            Assert.Equal("P0002", (await anonymous.TryQueryAsync("select ops.set_runner_disabled(@SharedRunnerId, true)", shared)).SqlState);

        await using (var owner = await db.OpenOwnerAsync())
            await owner.ExecuteAsync("update registry.users set is_system_admin = true where id = @OutsiderId", db.Tenants);
        try
        {
            await using var sysadmin = await db.AsUserAsync(db.Tenants.OutsiderId);
            Assert.True((await sysadmin.TryQueryAsync("select ops.set_runner_disabled(@SharedRunnerId, true)", shared)).Ok);
            Assert.True((await sysadmin.TryQueryAsync("select ops.revoke_runner_registration_token(null, @SharedRunnerTokenId)", shared)).Ok);
            // Not a member of A: A's runner does not exist for them.
            Assert.Equal("P0002", (await sysadmin.TryQueryAsync("select ops.set_runner_disabled(@RunnerId, true)", db.A)).SqlState);
        }
        finally
        {
            await using var owner = await db.OpenOwnerAsync();
            await owner.ExecuteAsync("update registry.users set is_system_admin = false where id = @OutsiderId", db.Tenants);
        }
    }

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task Running_build_counts_cover_the_runners_a_caller_can_see(Caller caller)
    {
        await using var session = await db.AsUserAsync(User(caller));

        var counts = (await session.QueryAsync<(Guid Runner, int Running)>("select runner_id, running from ops.runner_running_builds()")).ToList();

        var expected = caller switch
        {
            Caller.Anonymous or Caller.ProjectMember => [],
            Caller.OtherTenant => new[] { (db.B.RunnerId, 1) },
            _ => [(db.A.RunnerId, 1)],
        };
        Assert.Equal(expected, counts);
    }
}
