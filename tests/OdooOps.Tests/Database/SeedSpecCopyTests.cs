using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Database;

/// <summary>
/// The specification's statements that tests run live in the project's copy (SeedSpec.md), so a clone without
/// ../shared runs them. The copy must hold them, well-formed; where the specification is beside the repository,
/// every copied block must also still be in it, byte for byte and under the same heading, so the two cannot drift.
/// </summary>
public sealed class SeedSpecCopyTests
{
    const string Step1 = "### 1. Apply Migrations to Production";
    const string Step4 = "### 4. Test Edge Functions";
    const string Step5 = "### 5. Seed Initial Data (Optional)";

    [Fact]
    public void The_copy_holds_the_statements_the_tests_run_and_each_block_is_still_in_the_specification_when_present()
    {
        var blocks = SeedSpec.CopiedBlocks();
        Assert.Equal([Step1, Step4, Step5], blocks.Select(b => b.Heading));

        var verification = SeedSpec.Statements(SeedSpec.SqlBlocks(Step1).Single()).Select(s => Code(s.Sql)).ToList();
        Assert.Equal(3, verification.Count);
        Assert.Equal("select count(*) from information_schema.tables where table_schema = 'ops';", verification[0]);
        Assert.Equal("select count(*) from information_schema.routines where routine_schema = 'ops';", verification[1]);
        Assert.StartsWith("select schemaname, tablename, count(*) as policy_count\nfrom pg_policies", verification[2]);

        var seed = SeedSpec.Statements(SeedSpec.SqlBlocks(Step5).Single()).ToList();
        Assert.Equal(["registry.orgs", "ops.projects", "ops.branches", "ops.builds"],
            seed.Take(4).Select(s => Code(s.Sql).Split(' ')[2]));
        Assert.Equal(["org_id: [ORG_ID]", "project_id: [PROJECT_ID]", "branch_id: [BRANCH_ID]"],
            seed.Take(3).Select(s => s.After.Split("-- Save ")[1]));
        Assert.Equal(["select * from ops.list_projects();", "select * from ops.project_branches('[PROJECT_ID]');"],
            seed.Skip(4).Select(s => Code(s.Sql)));

        var curls = SeedSpec.Section(Step4);
        Assert.Contains("curl -X POST https://spdtwktxdalcfigzeqrz.supabase.co/functions/v1/ops-metrics-ingest \\\n", curls);
        Assert.Contains("    \"project_id\": \"00000000-0000-0000-0000-000000000000\",\n", curls);
        Assert.Contains("  }'\n\n# Expected: {\"inserted\": 2}\n", curls);

        if (SeedSpec.Original is not { } original)
        {
            // A clone on its own: nothing to compare with, the checks above are the whole test.
            TestContext.Current.TestOutputHelper?.WriteLine("The specification is not beside the repository; only the copy was checked.");
            return;
        }
        foreach (var (heading, block) in blocks)
            Assert.True(SeedSpec.Section(heading, original).Contains(block, StringComparison.Ordinal),
                $"This block under '{heading}' of SeedSpec.md is no longer in {SeedSpec.OriginalFile}:\n{block}");
    }

    /// <summary>A statement without the comment lines that lead it.</summary>
    static string Code(string sql) => string.Join('\n', sql.Split('\n').SkipWhile(l => l.StartsWith("--") || l.Length == 0));
}
