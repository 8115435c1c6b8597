using System.Text.RegularExpressions;
using Dapper;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Projects;

/// <summary>/app/projects pages through a large organisation 50 at a time, newest activity first, and searches.</summary>
public sealed partial class ProjectsPagingTests(PostgresCluster cluster)
{
    [Fact]
    public async Task Pages_cover_every_project_once_in_activity_order_and_search_filters()
    {
        await using var factory = await OdooOpsFactory.CreateAsync(cluster, "paging");
        var org = await Accounts.CreateOrgAsync(factory.Owner, "big");
        await Accounts.CreateUserAsync(factory.Owner, "pager@x.test", org, "viewer");
        await using (var conn = await Accounts.OpenAsync(factory.Owner))
            await conn.ExecuteAsync("""
                insert into ops.projects (org_id, name, slug, repo_url, last_activity_at)
                select @org, 'Project ' || g, 'proj-' || g, 'https://example.com/p.git', now() - make_interval(mins => g)
                from generate_series(1, 60) g
                """, new { org });
        var client = factory.CreateClient();
        await Accounts.SignInAsync(client, "pager@x.test");

        var first = await client.GetStringAsync("/app/projects");
        Assert.Contains("Showing 1–50 of 60", first);
        Assert.Contains("rel=\"next\"", first);
        Assert.DoesNotContain("rel=\"prev\"", first);
        var second = await client.GetStringAsync("/app/projects?page=2");
        Assert.Contains("Showing 51–60 of 60", second);
        Assert.DoesNotContain("rel=\"next\"", second);

        var slugs = Slugs(first).Concat(Slugs(second)).ToList();
        Assert.Equal(Enumerable.Range(1, 60).Select(i => $"proj-{i}"), slugs);

        var found = await client.GetStringAsync("/app/projects?q=proj-1");
        Assert.Equal(["proj-1", "proj-10", "proj-11", "proj-12", "proj-13", "proj-14", "proj-15", "proj-16", "proj-17", "proj-18", "proj-19"], Slugs(found));
        Assert.Contains("No project matches", await client.GetStringAsync("/app/projects?q=%25_nothing"));
    }

    static List<string> Slugs(string html) => [.. RowSlug().Matches(html).Select(m => m.Groups[1].Value)];

    [GeneratedRegex("<tr data-slug=\"([^\"]+)\"")]
    private static partial Regex RowSlug();
}
