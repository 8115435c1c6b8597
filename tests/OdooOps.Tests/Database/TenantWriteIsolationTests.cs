using System.Security.Cryptography;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Database;

/// <summary>
/// What ops_app sessions can change. Tests commit what the database let through and compare the owner's view before
/// and after, so a write that slipped past RLS would show up. What they may commit changes no content (no-op
/// updates), so they share the class database.
/// </summary>
public sealed class TenantWriteIsolationTests(TenantDatabase db) : IClassFixture<TenantDatabase>
{
    public static TheoryData<TenantRole> RolesOfA => [.. Enum.GetValues<TenantRole>()];

    [Theory]
    [InlineData(TenantRole.Owner)]
    [InlineData(TenantRole.Admin)]
    [InlineData(TenantRole.Developer)]
    [InlineData(TenantRole.ProjectMember)]
    public async Task Updates_and_deletes_by_tenant_A_never_touch_tenant_B(TenantRole role)
    {
        var before = (await db.SnapshotAsync()).Of(db.B);
        int updated = 0, deleted = 0;

        await using (var session = await db.AsUserAsync(db.A.User(role)))
        {
            foreach (var table in await TableCatalog.LoadAsync(session.Connection, session.Transaction))
            {
                // no-op updates are kept (committed below); deletes are rolled back so later tables still have A's rows
                var update = await session.TryAsync(async () => (await session.QueryAsync<string>(table.NoOpUpdateSql)).ToList(), keep: true);
                updated += AssertOnlyTenantA(db, table, update);
                var delete = await session.TryAsync(async () => (await session.QueryAsync<string>(table.DeleteSql)).ToList());
                deleted += AssertOnlyTenantA(db, table, delete);
            }
            await session.CommitAsync();
        }

        Assert.Equal(before, (await db.SnapshotAsync()).Of(db.B));
        // The statements did reach A's rows (a broken statement would also "never touch B").
        Assert.True(updated > 0, "no update returned a row of A");
        Assert.True(deleted > 0, "no delete returned a row of A");
    }

    [Theory]
    [MemberData(nameof(RolesOfA))]
    public async Task Inserts_pointing_at_tenant_B_are_refused(TenantRole role)
    {
        var before = await db.SnapshotAsync();
        var me = db.A.User(role);
        var args = new
        {
            Me = me, db.B.OrgId, db.B.ProjectId, db.B.DevBranchId, BOwner = db.B.OwnerId,
            db.Tenants.OutsiderId, Hash = RandomNumberGenerator.GetBytes(32),
        };
        string[] inserts =
        [
            "insert into ops.projects (org_id, name, slug, repo_url) values (@OrgId, 'Intruder', 'intruder', 'https://x.example/i.git')",
            "insert into ops.branches (project_id, name, stage, is_production) values (@ProjectId, 'intruder', 'development', false)",
            "insert into ops.builds (project_id, branch_id, trigger) values (@ProjectId, @DevBranchId, 'manual')",
            "insert into ops.builds (project_id, branch_id, trigger, triggered_by) values (@ProjectId, @DevBranchId, 'manual', @Me)",
            "insert into ops.advisories (project_id, rule, fingerprint) values (@ProjectId, 'intruder', 'intruder')",
            "insert into ops.project_members (project_id, user_id, role) values (@ProjectId, @Me, 'admin')",
            "insert into ops.project_members (project_id, user_id, role) values (@ProjectId, @OutsiderId, 'viewer')",
            "insert into ops.env_vars (project_id, stage, name, value) values (@ProjectId, 'development', 'INTRUDER', 'x')",
            "insert into ops.ingest_tokens (project_id, name, token_prefix, token_hash, created_by) values (@ProjectId, 'intruder', 'oi_x', @Hash, @Me)",
            "insert into ops.api_tokens (user_id, name, token_prefix, token_hash, scope) values (@BOwner, 'intruder', 'oo_x', @Hash, 'write')",
            "insert into registry.org_members (org_id, user_id, role) values (@OrgId, @Me, 'owner')",
            "insert into registry.org_members (org_id, user_id, role) values (@OrgId, @Me, 'viewer')",
            "insert into ops.audit_log (org_id, actor_user_id, action) values (@OrgId, @Me, 'intruder.write')",
            "insert into ops.audit_log (org_id, project_id, actor_user_id, action) values (@OrgId, @ProjectId, @Me, 'intruder.write')",
            "insert into ops.audit_log (project_id, actor_user_id, action) values (@ProjectId, @Me, 'intruder.write')",
            "insert into ops.metric_samples (project_id, branch_id, metric, ts, value) values (@ProjectId, @DevBranchId, 'cpu_pct', now(), 1)",
            "insert into ops.deployments (project_id, branch_id, stage) values (@ProjectId, @DevBranchId, 'development')",
        ];

        await using (var session = await db.AsUserAsync(me))
        {
            foreach (var sql in inserts)
            {
                var attempt = await session.TryExecuteAsync(sql, args, keep: true);
                Assert.True(attempt.SqlState == "42501", $"{sql}\n  expected 42501, got {attempt}");
            }
            await session.CommitAsync();
        }
        Assert.Equal(before, await db.SnapshotAsync());
    }

    [Fact]
    public async Task Audit_entries_name_oneself_as_actor_and_only_orgs_and_projects_one_can_see()
    {
        const string sql = "insert into ops.audit_log (org_id, project_id, actor_user_id, action) values (@OrgId, @ProjectId, @Actor, 'test.write')";
        foreach (var role in Enum.GetValues<TenantRole>())
        {
            var me = db.A.User(role);
            await using var session = await db.AsUserAsync(me);
            var cases = new (Guid? OrgId, Guid? ProjectId, Guid Actor, bool Allowed)[]
            {
                (db.A.OrgId, db.A.ProjectId, me, true),
                (null, null, me, true),
                (db.A.OrgId, null, me, role != TenantRole.ProjectMember), // a project-only member is not in the org
                (null, db.A.ProjectId, me, true),
                (db.A.OrgId, db.A.ProjectId, db.Tenants.OutsiderId, false), // someone else as actor
                (db.A.OrgId, db.B.ProjectId, me, false),                    // B's project under A's org
            };
            foreach (var c in cases)
            {
                var attempt = await session.TryExecuteAsync(sql, new { c.OrgId, c.ProjectId, c.Actor });
                Assert.True(c.Allowed ? attempt.Ok : attempt.SqlState == "42501", $"{role} {c}: {attempt}");
            }
        }
    }

    [Fact]
    public async Task A_viewer_of_A_cannot_insert_update_or_delete_anything_in_A()
    {
        await AssertCannotWriteAsync(db, db.A.ViewerId);
    }

    [Fact]
    public async Task Anonymous_cannot_write_anything()
    {
        await AssertCannotWriteAsync(db, null);
    }

    [Fact]
    public async Task The_write_probes_are_valid_statements_that_A_owner_may_run()
    {
        // Guards the refusal tests: each probe succeeds for A's owner, so a refusal means RLS said no.
        await using var session = await db.AsUserAsync(db.A.OwnerId);
        var tables = await TableCatalog.LoadAsync(session.Connection, session.Transaction);
        Assert.Equal(tables.Where(t => t.CanInsert).Select(t => t.Qualified).Order(), InsertsIntoA.Keys.Order());
        foreach (var (table, sql) in InsertsIntoA)
        {
            var attempt = await session.TryExecuteAsync(sql, ArgsFor(db, db.A.OwnerId));
            Assert.True(attempt.Ok && attempt.Value == 1, $"{table}: {attempt}");
        }
    }

    /// <summary>One valid insert into tenant A for every table ops_app may insert into.</summary>
    static readonly Dictionary<string, string> InsertsIntoA = new()
    {
        ["registry.org_members"] = "insert into registry.org_members (org_id, user_id, role) values (@OrgId, @OutsiderId, 'viewer')",
        ["ops.projects"] = "insert into ops.projects (org_id, name, slug, repo_url) values (@OrgId, 'New', 'new-project', 'https://git.example/new.git')",
        ["ops.branches"] = "insert into ops.branches (project_id, name) values (@ProjectId, 'new-branch')",
        ["ops.project_members"] = "insert into ops.project_members (project_id, user_id, role) values (@ProjectId, @OutsiderId, 'viewer')",
        ["ops.api_tokens"] = "insert into ops.api_tokens (user_id, name, token_prefix, token_hash) values (@Me, 'new', 'oo_new', @Hash)",
        ["ops.ingest_tokens"] = "insert into ops.ingest_tokens (project_id, name, token_prefix, token_hash) values (@ProjectId, 'new', 'oi_new', @Hash)",
        ["ops.audit_log"] = "insert into ops.audit_log (org_id, project_id, actor_user_id, action) values (@OrgId, @ProjectId, @Me, 'test.write')",
        ["ops.env_vars"] = "insert into ops.env_vars (project_id, stage, name, value) values (@ProjectId, 'development', 'NEW_VAR', 'x')",
        ["ops.member_invitations"] = "insert into ops.member_invitations (org_id, email, role, expires_at) values (@OrgId, 'new@elsewhere.test', 'viewer', now() + interval '1 day')",
    };

    /// <summary>Personal rows any signed-in user may write for themself (not tenant data): their profile, tokens, audit entries.</summary>
    static readonly HashSet<string> SelfUpdates = ["registry.users"];
    static readonly HashSet<string> SelfInserts = ["ops.api_tokens", "ops.audit_log"];

    static object ArgsFor(TenantDatabase db, Guid me) => new
    {
        Me = me, db.A.OrgId, db.A.ProjectId, db.A.DevBranchId, db.Tenants.OutsiderId, Hash = RandomNumberGenerator.GetBytes(32),
    };

    /// <summary>
    /// Every update and delete affects no row (or is refused), every insert is refused; what got through is committed
    /// and the owner's snapshot must not have moved. A signed-in user's own profile, tokens and audit entries are
    /// theirs to write, so those are tried and rolled back instead.
    /// </summary>
    static async Task AssertCannotWriteAsync(TenantDatabase db, Guid? user)
    {
        var before = await db.SnapshotAsync();
        var problems = new List<string>();
        await using (var session = await db.AsUserAsync(user))
        {
            foreach (var table in await TableCatalog.LoadAsync(session.Connection, session.Transaction))
            {
                var me = user?.ToString() ?? "anonymous";
                var selfUpdate = user is not null && SelfUpdates.Contains(table.Qualified);
                var update = await session.TryAsync(async () => (await session.QueryAsync<string>(table.NoOpUpdateSql)).ToList(), keep: !selfUpdate);
                if (update.Ok && update.Value!.Any(r => !(selfUpdate && r.Contains(me)))) problems.Add($"update {table.Qualified}: {update.Value!.Count} rows");
                if (!update.Ok && update.SqlState != "42501") problems.Add($"update {table.Qualified}: {update}");

                var delete = await session.TryAsync(async () => (await session.QueryAsync<string>(table.DeleteSql)).ToList(), keep: true);
                if (delete.Ok && delete.Value!.Count > 0) problems.Add($"delete {table.Qualified}: {delete.Value.Count} rows");
                if (!delete.Ok && delete.SqlState != "42501") problems.Add($"delete {table.Qualified}: {delete}");

                var selfInsert = user is not null && SelfInserts.Contains(table.Qualified);
                var insert = InsertsIntoA.TryGetValue(table.Qualified, out var sql)
                    ? await session.TryExecuteAsync(sql, ArgsFor(db, user ?? db.A.OwnerId), keep: !selfInsert)
                    : await session.TryExecuteAsync($"insert into {table.Qualified} default values", keep: true);
                if (selfInsert ? !insert.Ok : insert.SqlState != "42501") problems.Add($"insert {table.Qualified}: {insert}");
            }
            await session.CommitAsync();
        }
        Assert.Empty(problems);
        Assert.Equal(before, await db.SnapshotAsync());
    }

    static int AssertOnlyTenantA(TenantDatabase db, TableAccess table, Attempt<List<string>> attempt)
    {
        if (!attempt.Ok)
        {
            Assert.True(attempt.SqlState == "42501", $"{table.Qualified}: {attempt}");
            return 0;
        }
        Assert.DoesNotContain(attempt.Value!, db.B.Owns);
        return attempt.Value!.Count(db.A.Owns);
    }
}
