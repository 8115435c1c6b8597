using Dapper;
using OdooOps.Tests.Database;

namespace OdooOps.Tests.Seed;

/// <summary>What the demo gives the Advisories, Members and Audit log pages to show.</summary>
public sealed class DemoOrgActivityTests(DemoDataTests.SeededDatabase seeded) : IClassFixture<DemoDataTests.SeededDatabase>
{
    [Fact]
    public async Task Advisories_of_every_severity_and_status_and_a_suppression_with_its_history()
    {
        await using var owner = await seeded.OpenOwnerAsync();
        var kinds = (await owner.QueryAsync<(string Severity, string Status)>("select distinct severity, status from ops.advisories")).ToList();
        Assert.Superset(new HashSet<string> { "info", "warning", "critical" }, kinds.Select(k => k.Severity).ToHashSet());
        Assert.Superset(new HashSet<string> { "open", "suppressed", "resolved" }, kinds.Select(k => k.Status).ToHashSet());

        var history = (await owner.QueryAsync<(string Event, string? Email)>("""
            select e.event, u.email from ops.advisory_events e join ops.advisories a on a.id = e.advisory_id
              left join registry.users u on u.id = e.actor_user_id
             where a.status = 'suppressed' order by e.created_at, e.id
            """)).ToList();
        Assert.Equal(["opened", "suppressed", "unsuppressed", "suppressed"], history.Select(h => h.Event));
        Assert.Equal([null, "developer@demo.odooops.dev", null, "admin@demo.odooops.dev"], history.Select(h => h.Email));
    }

    [Fact]
    public async Task A_few_members_a_project_only_one_and_open_invitations()
    {
        await using var owner = await seeded.OpenOwnerAsync();
        Assert.True(await owner.ExecuteScalarAsync<long>("select count(*) from registry.org_members m join registry.orgs o on o.id = m.org_id where o.slug = 'demo'") >= 5);
        Assert.Equal(1L, await owner.ExecuteScalarAsync<long>("select count(*) from ops.project_members"));
        Assert.Equal(["auditor@partner.example", "new.hire@demo.odooops.dev"],
            (await owner.QueryAsync<string>("select email from ops.member_invitations where expires_at > now() order by email")).AsList());
    }

    [Fact]
    public async Task A_long_audit_log_by_several_actors_in_time_order()
    {
        await using var owner = await seeded.OpenOwnerAsync();
        var (rows, actors, days, ordered) = await owner.QuerySingleAsync<(long, long, double, bool)>("""
            select count(*), count(distinct coalesce(actor_user_id::text, actor)),
                   extract(epoch from max(created_at) - min(created_at)) / 86400,
                   bool_and(created_at >= prev) filter (where prev is not null)
              from (select *, lag(created_at) over (order by id) as prev from ops.audit_log) l
            """);
        Assert.True(rows >= 200, $"{rows} entries");
        Assert.True(actors >= 6, $"{actors} actors"); // four people, git pushes and the system
        Assert.True(days >= 20, $"{days} days");
        Assert.True(ordered, "ids follow time, as keyset pages need");
    }
}
