using Dapper;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Database;

/// <summary>
/// What ops_app sessions can read, table by table. The tables come from the catalog (every plain and partitioned
/// table of ops and registry), so a table added by a later migration is checked without touching these tests.
/// </summary>
public sealed class TenantIsolationTests(TenantDatabase db) : IClassFixture<TenantDatabase>
{
    public static TheoryData<TenantRole> RolesOfA => [.. Enum.GetValues<TenantRole>()];

    [Fact]
    public async Task The_fixture_puts_rows_of_both_tenants_in_every_tenant_scoped_table()
    {
        // Guards the tests below: a table with no rows of B could never show a leak.
        var snapshot = await db.SnapshotAsync();
        Assert.NotEmpty(snapshot);
        foreach (var (table, rows) in snapshot)
        {
            if (TwoTenants.Untenanted.Contains(table))
            {
                Assert.True(rows.Count > 0, $"{table}: expected a global row");
                continue;
            }
            Assert.True(rows.Any(db.A.Owns), $"{table}: the fixture has no row of tenant A (extend TwoTenants)");
            Assert.True(rows.Any(db.B.Owns), $"{table}: the fixture has no row of tenant B (extend TwoTenants)");
            Assert.False(rows.Any(r => db.A.Owns(r) && db.B.Owns(r)), $"{table}: a fixture row links both tenants");
        }
    }

    [Theory]
    [MemberData(nameof(RolesOfA))]
    public async Task No_role_of_tenant_A_sees_any_row_of_tenant_B(TenantRole role)
    {
        await using var session = await db.AsUserAsync(db.A.User(role));
        var seen = await VisibleAsync(session);

        var leaks = seen.SelectMany(kv => kv.Value.Where(db.B.Owns).Select(row => $"{kv.Key}: {row}")).ToList();
        Assert.Empty(leaks);
        // Every role of A reads A's project, so an empty result cannot pass for isolation.
        Assert.Contains(seen["ops.projects"], db.A.Owns);
    }

    [Fact]
    public async Task Tenant_A_owner_sees_A_rows_in_every_tenant_scoped_table()
    {
        await using var session = await db.AsUserAsync(db.A.OwnerId);
        var seen = await VisibleAsync(session);

        var missing = seen.Where(kv => !TwoTenants.Untenanted.Contains(kv.Key) && !kv.Value.Any(db.A.Owns)).Select(kv => kv.Key);
        Assert.Empty(missing);
        Assert.Empty(seen["ops.job_runs"]); // system admins only
    }

    /// <summary>Notification channels and their delivery log: org owners and admins only.</summary>
    static readonly string[] Notifications = ["ops.notification_channels", "ops.notification_deliveries"];

    // Tables in which the role sees none of A's rows, per the permission table in docs/schema.md.
    public static TheoryData<TenantRole, string[]> HiddenFromRole => new()
    {
        { TenantRole.Owner, ["ops.job_runs"] },
        { TenantRole.Admin, ["ops.api_tokens", "ops.job_runs"] },   // api tokens: own only (A's token is the owner's)
        { TenantRole.Developer, ["ops.api_tokens", "ops.audit_log", "ops.ingest_tokens", "ops.job_runs", "ops.member_invitations", .. Notifications, "ops.runner_registration_tokens"] },
        { TenantRole.Tester, ["ops.api_tokens", "ops.audit_log", "ops.env_stage_changes", "ops.env_vars", "ops.ingest_tokens", "ops.job_runs", "ops.member_invitations", .. Notifications, "ops.runner_registration_tokens"] },
        { TenantRole.Viewer, ["ops.api_tokens", "ops.audit_log", "ops.env_stage_changes", "ops.env_vars", "ops.ingest_tokens", "ops.job_runs", "ops.member_invitations", .. Notifications, "ops.runner_registration_tokens"] },
        // A project-only member (developer of the project) sees the project's rows but nothing org-wide.
        { TenantRole.ProjectMember, ["ops.api_tokens", "ops.audit_log", "ops.ingest_tokens", "ops.job_runs", "ops.member_invitations", .. Notifications,
                                     "ops.runner_registration_tokens", "ops.runners", "registry.org_members", "registry.orgs"] },
    };

    [Theory]
    [MemberData(nameof(HiddenFromRole))]
    public async Task Each_role_sees_exactly_the_tables_the_permission_table_grants(TenantRole role, string[] hidden)
    {
        await using var session = await db.AsUserAsync(db.A.User(role));
        var seen = await VisibleAsync(session);

        var actuallyHidden = seen.Where(kv => !kv.Value.Any(db.A.Owns)).Select(kv => kv.Key).Order(StringComparer.Ordinal);
        Assert.Equal(hidden.Order(StringComparer.Ordinal), actuallyHidden);
    }

    [Fact]
    public async Task Testers_and_viewers_see_no_env_var_and_developers_no_production_secret()
    {
        foreach (var role in new[] { TenantRole.Tester, TenantRole.Viewer })
        {
            await using var session = await db.AsUserAsync(db.A.User(role));
            Assert.Equal(0L, await session.ScalarAsync<long>("select count(*) from ops.env_vars"));
        }
        // A developer reads the variables, but not production's secrets (admins do).
        await using var developer = await db.AsUserAsync(db.A.DeveloperId);
        Assert.Equal(["DB_HOST"], await developer.QueryAsync<string>("select name from ops.env_vars order by name"));
        await using var admin = await db.AsUserAsync(db.A.AdminId);
        Assert.Equal(["DB_HOST", "SMTP_PASSWORD"], await admin.QueryAsync<string>("select name from ops.env_vars order by name"));
    }

    [Fact]
    public async Task Anonymous_sees_no_row_in_any_table()
    {
        await using var session = await db.AsUserAsync(null);
        var seen = await VisibleAsync(session);

        Assert.NotEmpty(seen);
        Assert.Empty(seen.Where(kv => kv.Value.Count > 0).Select(kv => $"{kv.Key}: {kv.Value.Count} rows"));
    }

    [Fact]
    public async Task A_user_with_no_membership_sees_only_themself_and_shared_runners()
    {
        await using var session = await db.AsUserAsync(db.Tenants.OutsiderId);
        var seen = await VisibleAsync(session);

        var visible = seen.Where(kv => kv.Value.Count > 0).ToDictionary();
        Assert.Equal(["ops.runners", "registry.users"], visible.Keys.Order(StringComparer.Ordinal));
        Assert.Contains(db.Tenants.OutsiderId.ToString(), Assert.Single(visible["registry.users"]));
        Assert.Contains(db.Tenants.SharedRunnerId.ToString(), Assert.Single(visible["ops.runners"]));
    }

    [Fact]
    public async Task An_inactive_user_sees_nothing()
    {
        // A's owner sees the most; deactivated (committed, so the app session sees it), nothing at all.
        await using var owner = await db.OpenOwnerAsync();
        await owner.ExecuteAsync("update registry.users set is_active = false where id = @OwnerId", db.A);
        try
        {
            await using var session = await db.AsUserAsync(db.A.OwnerId);
            var seen = await VisibleAsync(session);
            Assert.Empty(seen.Where(kv => kv.Value.Count > 0).Select(kv => $"{kv.Key}: {kv.Value.Count} rows"));
        }
        finally
        {
            await owner.ExecuteAsync("update registry.users set is_active = true where id = @OwnerId", db.A);
        }
    }

    static async Task<Dictionary<string, List<string>>> VisibleAsync(AppSession session)
    {
        var result = new Dictionary<string, List<string>>();
        foreach (var table in await TableCatalog.LoadAsync(session.Connection, session.Transaction))
            result[table.Qualified] = await TableCatalog.VisibleRowsAsync(session, table);
        return result;
    }
}
