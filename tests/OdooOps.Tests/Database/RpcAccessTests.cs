using Dapper;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Database;

/// <summary>
/// The user-facing RPCs of docs/schema.md, called through ops_app by every kind of caller. Allowed calls are rolled
/// back; refused calls must raise the documented SQLSTATE and, committed, leave the database as it was.
/// </summary>
public sealed class RpcAccessTests(TenantDatabase db) : IClassFixture<TenantDatabase>
{
    /// <summary>Who calls: a role of tenant A, tenant B's owner, or nobody.</summary>
    public enum Caller { Owner, Admin, Developer, Tester, Viewer, ProjectMember, OtherTenant, Anonymous }

    const string Ok = "ok";
    static readonly Caller[] RolesOfA = [Caller.Owner, Caller.Admin, Caller.Developer, Caller.Tester, Caller.Viewer, Caller.ProjectMember];

    public static TheoryData<Caller> Callers => [.. Enum.GetValues<Caller>()];
    public static TheoryData<Caller> CallersOfA => [.. RolesOfA];

    // Expected outcome per caller: developer+ (and the project-only developer) may, tester/viewer 42501, strangers P0002.
    static readonly Dictionary<Caller, string> DeveloperPlus = new()
    {
        [Caller.Owner] = Ok, [Caller.Admin] = Ok, [Caller.Developer] = Ok, [Caller.ProjectMember] = Ok,
        [Caller.Tester] = "42501", [Caller.Viewer] = "42501", [Caller.OtherTenant] = "P0002", [Caller.Anonymous] = "P0002",
    };
    static readonly Dictionary<Caller, string> TesterPlus = new(DeveloperPlus) { [Caller.Tester] = Ok };
    static readonly Dictionary<Caller, string> AdminPlus = new(DeveloperPlus) { [Caller.Developer] = "42501", [Caller.ProjectMember] = "42501" };

    Guid? User(Caller c) => c switch
    {
        Caller.OtherTenant => db.B.OwnerId,
        Caller.Anonymous => null,
        _ => db.A.User(Enum.Parse<TenantRole>(c.ToString())),
    };

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task List_projects_shows_only_the_callers_tenant(Caller caller)
    {
        var rows = await RowsAsync(caller, "select * from ops.list_projects()");
        var expected = caller switch { Caller.Anonymous => [], Caller.OtherTenant => [db.B.ProjectId], _ => new[] { db.A.ProjectId } };
        Assert.Equal(expected, rows.Select(r => (Guid)r.id));
        if (caller is Caller.Anonymous or Caller.OtherTenant) return;
        var row = rows.Single();
        Assert.Equal(db.A.ProductionBranchId, (Guid)row.production_branch_id);
        Assert.Equal(db.A.QueuedBuildId, (Guid)row.last_build_id);
        Assert.Equal(1, (int)row.open_advisories);
    }

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task Project_branches_of_A_are_listed_production_first_to_A_only(Caller caller)
    {
        var ofA = await RowsAsync(caller, "select * from ops.project_branches(@ProjectId)", new { db.A.ProjectId });
        var ofB = await RowsAsync(caller, "select * from ops.project_branches(@ProjectId)", new { db.B.ProjectId });
        Guid[] branchesOfA = [db.A.ProductionBranchId, db.A.StagingBranchId, db.A.DevBranchId];
        Assert.Equal(caller is Caller.OtherTenant or Caller.Anonymous ? [] : branchesOfA, ofA.Select(r => (Guid)r.id));
        Assert.Equal(caller is Caller.OtherTenant ? 3 : 0, ofB.Count);
    }

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task Create_project_in_A_needs_an_org_admin(Caller caller)
    {
        const string sql = "select * from ops.create_project(@OrgId, 'New Shop', null, 'https://git.example/shop.git')";
        var expected = caller is Caller.Owner or Caller.Admin ? Ok : "42501";
        var row = await ExpectAsync(caller, expected, sql, new { db.A.OrgId });
        if (row is not null) Assert.Equal(("new-shop", db.A.OrgId), ((string)row.slug, (Guid)row.org_id));
    }

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task Create_branch_needs_developer_and_production_needs_admin(Caller caller)
    {
        var row = await ExpectAsync(caller, DeveloperPlus[caller], "select * from ops.create_branch(@ProjectId, 'feature-y')", new { db.A.ProjectId });
        if (row is not null) Assert.Equal("development", (string)row.stage);
        // A already has a production branch: admins hit the unique index, others the role check.
        var production = caller switch { Caller.Owner or Caller.Admin => "23505", Caller.OtherTenant or Caller.Anonymous => "P0002", _ => "42501" };
        await ExpectAsync(caller, production, "select * from ops.create_branch(@ProjectId, 'release', 'production')", new { db.A.ProjectId });
    }

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task Set_branch_stage_between_non_production_stages_needs_developer(Caller caller)
    {
        var row = await ExpectAsync(caller, DeveloperPlus[caller], "select * from ops.set_branch_stage(@DevBranchId, 'staging')", new { db.A.DevBranchId });
        if (row is not null) Assert.Equal("staging", (string)row.stage);
    }

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task Trigger_build_on_development_and_staging_is_open_to_testers_and_queues_the_build(Caller caller)
    {
        // priority = stage (development 100, staging 200) + manual trigger 20
        foreach (var (branch, priority) in new[] { (db.A.DevBranchId, 120), (db.A.StagingBranchId, 220) })
        {
            await using var session = await db.AsUserAsync(User(caller));
            // A commit of its own: the fixture's queued builds would otherwise be answered instead (the same branch and commit).
            var attempt = await session.TryQueryAsync("select * from ops.trigger_build(@ProjectId, @branch, 'manual', 'feedface01')", new { db.A.ProjectId, branch }, keep: true);
            Assert.Equal(TesterPlus[caller], attempt.SqlState ?? Ok);
            if (!attempt.Ok) continue;
            var answer = attempt.Value!.Single();
            Assert.Equal("queued", (string)answer.outcome);
            var build = (await session.QueryAsync("select * from ops.builds where id = @id", new { id = (Guid)answer.build_id })).Single();
            Assert.Equal(("queued", User(caller)), ((string)build.status, (Guid?)build.triggered_by));
            Assert.Equal(priority, await session.ScalarAsync<int>("select priority from ops.run_queue where build_id = @id", new { id = (Guid)build.id }));
        }
    }

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task Trigger_build_on_production_needs_developer(Caller caller)
    {
        const string sql = "select * from ops.trigger_build(@ProjectId, @ProductionBranchId, 'push', 'ABCDEF12')";
        var args = new { db.A.ProjectId, db.A.ProductionBranchId };
        if (DeveloperPlus[caller] != Ok)
        {
            await ExpectAsync(caller, DeveloperPlus[caller], sql, args);
            return;
        }
        await using var session = await db.AsUserAsync(User(caller)); // rolled back
        var answer = (await session.QueryAsync(sql, args)).Single();
        Assert.Equal("queued", (string)answer.outcome);
        Assert.Equal("abcdef12", await session.ScalarAsync<string>("select commit_sha from ops.builds where id = @id", new { id = (Guid)answer.build_id }));
    }

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task Cancel_build_cancels_queued_and_flags_running_builds(Caller caller)
    {
        var queued = await ExpectAsync(caller, TesterPlus[caller], "select * from ops.cancel_build(@QueuedBuildId)", new { db.A.QueuedBuildId });
        if (queued is not null) Assert.Equal("cancelled", (string)queued.status);
        var running = await ExpectAsync(caller, TesterPlus[caller], "select * from ops.cancel_build(@RunningBuildId)", new { db.A.RunningBuildId });
        if (running is not null) Assert.Equal(("running", true), ((string)running.status, running.cancel_requested_at is not null));
    }

    [Fact]
    public async Task Cancelling_a_queued_build_removes_its_queue_row()
    {
        await using var session = await db.AsUserAsync(db.A.TesterId);
        Assert.Equal("cancelled", await session.ScalarAsync<string>("select status from ops.cancel_build(@QueuedBuildId)", new { db.A.QueuedBuildId }));
        Assert.Equal(0L, await session.ScalarAsync<long>("select count(*) from ops.run_queue where build_id = @QueuedBuildId", new { db.A.QueuedBuildId }));
    }

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task Builds_and_list_advisories_show_visible_rows_only(Caller caller)
    {
        var builds = await RowsAsync(caller, "select * from ops.builds where project_id = @ProjectId order by created_at desc, id desc", new { db.A.ProjectId });
        var queued = await RowsAsync(caller, "select * from ops.builds where project_id = @ProjectId and status = 'queued'", new { db.A.ProjectId });
        var all = await RowsAsync(caller, "select * from ops.list_advisories(null, null)");
        var open = await RowsAsync(caller, "select * from ops.list_advisories()");

        var tenant = caller switch { Caller.Anonymous => null, Caller.OtherTenant => db.B, _ => db.A };
        Assert.Equal(tenant == db.A ? [db.A.QueuedBuildId, db.A.RunningBuildId, db.A.FailedBuildId, db.A.SuccessBuildId] : [],
            builds.Select(r => (Guid)r.id));
        Assert.Equal(tenant == db.A ? [db.A.QueuedBuildId] : [], queued.Select(r => (Guid)r.id));
        Assert.Equal(tenant is null ? [] : new[] { tenant.OpenAdvisoryId, tenant.ResolvedAdvisoryId }.Order(), all.Select(r => (Guid)r.id).Order());
        Assert.Equal(tenant is null ? [] : [tenant.OpenAdvisoryId], open.Select(r => (Guid)r.id));
    }

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task Resolve_and_suppress_advisory_need_developer(Caller caller)
    {
        var resolved = await ExpectAsync(caller, DeveloperPlus[caller], "select * from ops.resolve_advisory(@OpenAdvisoryId)", new { db.A.OpenAdvisoryId });
        if (resolved is not null) Assert.Equal(("resolved", true), ((string)resolved.status, resolved.resolved_at is not null));
        var suppressed = await ExpectAsync(caller, DeveloperPlus[caller],
            "select * from ops.suppress_advisory(@OpenAdvisoryId, now() + interval '1 day', 'known')", new { db.A.OpenAdvisoryId });
        if (suppressed is not null) Assert.Equal(("suppressed", "known"), ((string)suppressed.status, (string)suppressed.suppress_reason));
    }

    [Theory]
    [MemberData(nameof(CallersOfA))]
    public async Task No_role_of_A_can_act_on_tenant_B(Caller caller)
    {
        var b = db.B;
        var args = new { b.OrgId, b.ProjectId, b.DevBranchId, b.StagingBranchId, b.QueuedBuildId, b.OpenAdvisoryId };
        await ExpectAsync(caller, "42501", "select * from ops.create_project(@OrgId, 'Intruder', null, 'https://x.example/i.git')", args);
        await ExpectAsync(caller, "P0002", "select * from ops.create_branch(@ProjectId, 'intruder')", args);
        await ExpectAsync(caller, "P0002", "select * from ops.set_branch_stage(@DevBranchId, 'staging')", args);
        await ExpectAsync(caller, "P0002", "select * from ops.set_branch_stage(@StagingBranchId, 'production')", args);
        await ExpectAsync(caller, "P0002", "select * from ops.trigger_build(@ProjectId, @DevBranchId)", args);
        await ExpectAsync(caller, "P0002", "select * from ops.cancel_build(@QueuedBuildId)", args);
        await ExpectAsync(caller, "P0002", "select * from ops.resolve_advisory(@OpenAdvisoryId)", args);
        await ExpectAsync(caller, "P0002", "select * from ops.suppress_advisory(@OpenAdvisoryId)", args);
        Assert.Empty(await RowsAsync(caller, "select * from ops.builds where project_id = @ProjectId", args));
    }

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task Webhook_settings_and_secret_rotation_need_an_admin_and_never_show_the_secret(Caller caller)
    {
        var status = await ExpectAsync(caller, AdminPlus[caller], "select * from ops.webhook_settings(@ProjectId)", new { db.A.ProjectId });
        if (status is not null) Assert.Equal(["secret_set", "rotated_at"], ((IDictionary<string, object>)status).Keys);
        var rotated = await ExpectAsync(caller, AdminPlus[caller], "select ops.rotate_webhook_secret(@ProjectId, repeat('s', 64)) as at", new { db.A.ProjectId });
        if (rotated is not null) Assert.True((DateTime)rotated.at > DateTime.UtcNow.AddMinutes(-5));
        await using var owner = await db.OpenOwnerAsync();
        Assert.Equal(0L, await owner.ExecuteScalarAsync<long>("select count(*) from ops_private.project_webhooks")); // refusals committed nothing
    }

    async Task<List<dynamic>> RowsAsync(Caller caller, string sql, object? args = null)
    {
        await using var session = await db.AsUserAsync(User(caller));
        return [.. await session.QueryAsync(sql, args)];
    }

    /// <summary>
    /// Runs the call as <paramref name="caller"/>. "ok": returns its single row (rolled back afterwards). A SQLSTATE:
    /// the call must raise it, and after committing the transaction the owner's snapshot must be unchanged.
    /// </summary>
    async Task<dynamic?> ExpectAsync(Caller caller, string expected, string sql, object? args = null)
    {
        var before = expected == Ok ? null : await db.SnapshotAsync();
        await using (var session = await db.AsUserAsync(User(caller)))
        {
            var attempt = await session.TryQueryAsync(sql, args, keep: true);
            Assert.True((attempt.SqlState ?? Ok) == expected, $"{sql} as {caller}: expected {expected}, got {attempt}");
            if (expected == Ok) return attempt.Value!.Single();
            await session.CommitAsync();
        }
        Assert.Equal(before, await db.SnapshotAsync());
        return null;
    }
}
