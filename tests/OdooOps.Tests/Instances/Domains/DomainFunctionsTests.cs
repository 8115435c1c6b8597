using Dapper;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Instances.Domains;

/// <summary>
/// The domain functions and the route look-up in the database, called as each kind of request caller (the API's
/// checks removed, the database still holds): who may add, check and remove (ops.can_build's rule), a name held by
/// another organisation (23505, not saying whose), the other tenant's rows not found, and ops.resolve_instance_host
/// for the service login only. Refusals commit nothing.
/// </summary>
public sealed class DomainFunctionsTests(TenantDatabase db) : IClassFixture<TenantDatabase>
{
    public static TheoryData<TenantRole, bool, bool> Roles => new()
    {
        // role, may on production, may on staging
        { TenantRole.Owner, true, true }, { TenantRole.Admin, true, true }, { TenantRole.Developer, true, true },
        { TenantRole.ProjectMember, true, true }, { TenantRole.Tester, false, true }, { TenantRole.Viewer, false, false },
    };

    async Task<string> TryAsync(Guid? user, string sql, object args)
    {
        var before = await db.SnapshotAsync();
        await using var session = await db.AsUserAsync(user);
        var attempt = await session.TryQueryAsync(sql, args, keep: true);
        if (attempt.Ok) return "ok"; // rolled back on dispose
        await session.CommitAsync();
        Assert.Equal(before, await db.SnapshotAsync());
        return attempt.SqlState!;
    }

    async Task<Guid> DomainAsync(Guid branchId, string name)
    {
        await using var owner = await db.OpenOwnerAsync();
        return await owner.ExecuteScalarAsync<Guid>(
            "insert into ops.instance_domains (project_id, branch_id, name) values (@ProjectId, @branchId, @name) on conflict (name) do update set name = excluded.name returning id",
            new { db.A.ProjectId, branchId, name });
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public async Task Adding_checking_and_removing_follow_the_build_rule(TenantRole role, bool production, bool staging)
    {
        var a = db.A;
        var user = a.User(role);
        foreach (var (branch, may) in new[] { (a.ProductionBranchId, production), (a.StagingBranchId, staging) })
        {
            var expected = may ? "ok" : "42501";
            var args = new { a.ProjectId, branch, domain = await DomainAsync(branch, $"{branch:N}.fixture.test") };
            Assert.Equal(expected, await TryAsync(user, "select * from ops.add_instance_domain(@ProjectId, @branch, 'new-' || @branch || '.test')", args));
            Assert.Equal(expected, await TryAsync(user, "select * from ops.record_instance_domain_check(@ProjectId, @domain, true, null)", args));
            Assert.Equal(expected, await TryAsync(user, "select * from ops.remove_instance_domain(@ProjectId, @domain)", args));
        }
    }

    [Fact]
    public async Task A_name_another_organisation_holds_is_23505_without_naming_it()
    {
        await using var session = await db.AsUserAsync(db.B.OwnerId);
        var attempt = await session.TryQueryAsync("select * from ops.add_instance_domain(@ProjectId, @ProductionBranchId, 'erp-a.example.com')",
            new { db.B.ProjectId, db.B.ProductionBranchId });
        Assert.Equal("23505", attempt.SqlState);
        Assert.Equal("erp-a.example.com is already used.", attempt.Error!.MessageText);
        Assert.Null(attempt.Error.ConstraintName);
    }

    [Theory]
    [InlineData(TenantRole.Owner)]
    [InlineData(TenantRole.Developer)]
    public async Task The_other_tenants_branches_and_domains_are_not_found(TenantRole role)
    {
        var (a, b) = (db.A, db.B);
        Guid bDomain;
        await using (var owner = await db.OpenOwnerAsync())
            bDomain = await owner.ExecuteScalarAsync<Guid>("select id from ops.instance_domains where project_id = @ProjectId", new { b.ProjectId });
        var user = a.User(role);
        Assert.Equal("P0002", await TryAsync(user, "select * from ops.add_instance_domain(@ProjectId, @ProductionBranchId, 'x.intruder.test')", new { b.ProjectId, b.ProductionBranchId }));
        Assert.Equal("P0002", await TryAsync(user, "select * from ops.add_instance_domain(@pa, @ProductionBranchId, 'x.intruder.test')", new { pa = a.ProjectId, b.ProductionBranchId }));
        Assert.Equal("P0002", await TryAsync(user, "select * from ops.remove_instance_domain(@ProjectId, @bDomain)", new { b.ProjectId, bDomain }));
        Assert.Equal("P0002", await TryAsync(user, "select * from ops.remove_instance_domain(@ProjectId, @bDomain)", new { a.ProjectId, bDomain }));
        Assert.Equal("P0002", await TryAsync(user, "select * from ops.record_instance_domain_check(@ProjectId, @bDomain, true, null)", new { b.ProjectId, bDomain }));
        Assert.Equal("P0002", await TryAsync(null, "select * from ops.add_instance_domain(@ProjectId, @ProductionBranchId, 'x.anon.test')", new { a.ProjectId, a.ProductionBranchId }));
    }

    [Fact]
    public async Task Routes_are_looked_up_by_the_service_login_only_and_by_the_whole_name()
    {
        await using var session = await db.AsUserAsync(db.A.OwnerId);
        Assert.Equal("42501", (await session.TryQueryAsync("select * from ops.resolve_instance_host(null, null, 'erp-a.example.com')")).SqlState);

        IEnumerable<(Guid, string)> owners;
        await using (var owner = await db.OpenOwnerAsync())
        {
            await owner.ExecuteAsync("update ops.projects set host_label = 'rt-' || slug || '-' || substr(id::text, 1, 4) where host_label is null;" +
                                     "update ops.branches set host_label = name where host_label is null");
            owners = await owner.QueryAsync<(Guid, string)>("select id, host_label from ops.projects where id in (@A, @B)", new { A = db.A.ProjectId, B = db.B.ProjectId });
        }
        await using var service = await db.OpenServiceAsync();
        foreach (var (project, hostLabel) in owners)
        {
            var branch = await service.QuerySingleAsync<Guid>("select branch_id from ops.resolve_instance_host(@hostLabel, 'main', null)", new { hostLabel });
            Assert.Equal(project == db.A.ProjectId ? db.A.ProductionBranchId : db.B.ProductionBranchId, branch);
        }
        Assert.Empty(await service.QueryAsync("select * from ops.resolve_instance_host('rt', 'main', null)"));
        Assert.Empty(await service.QueryAsync("select * from ops.resolve_instance_host(null, null, 'example.com')"));
        Assert.Empty(await service.QueryAsync("select * from ops.resolve_instance_host(null, null, 'x.erp-a.example.com')"));
        var domain = await service.QuerySingleAsync<(Guid BranchId, bool Verified)>("select branch_id, verified from ops.resolve_instance_host(null, null, 'erp-a.example.com')");
        Assert.Equal((db.A.ProductionBranchId, false), domain);
    }
}
