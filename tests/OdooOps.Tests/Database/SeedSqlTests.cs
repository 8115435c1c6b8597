using System.Text.RegularExpressions;
using Dapper;
using Npgsql;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Database;

/// <summary>The seed's step 1 (verification SQL) and step 5 (seed data SQL) run as written, as the owner would in psql.</summary>
public sealed partial class SeedSqlTests(PostgresCluster cluster)
{
    [Fact]
    public async Task Step_5_seed_data_runs_as_written_and_the_rpcs_show_it()
    {
        var cs = await cluster.CreateDatabaseAsync("seedstep5");
        await using var conn = new NpgsqlConnection(cs.ConnectionString);
        await conn.OpenAsync();
        var saved = new Dictionary<string, string>();
        var statements = SeedSpec.Statements(SeedSpec.SqlBlocks("### 5. Seed Initial Data").Single());
        Assert.Equal(6, statements.Count); // four inserts, then the two selects

        var results = new List<List<dynamic>>();
        foreach (var (sql, after) in statements)
        {
            var text = Placeholder().Replace(sql, m => saved.TryGetValue(m.Value, out var v) ? v : m.Value);
            Assert.DoesNotMatch(Placeholder(), text);
            var rows = (await conn.QueryAsync(text)).ToList();
            results.Add(rows);
            var save = SaveComment().Match(after);
            if (save.Success) saved[save.Groups[1].Value] = ((IDictionary<string, object>)rows.Single())["id"].ToString()!;
        }

        Assert.Equal(["[ORG_ID]", "[PROJECT_ID]", "[BRANCH_ID]"], saved.Keys);
        var projects = results[^2];
        var project = (IDictionary<string, object>)Assert.Single(projects);
        Assert.Equal("Production ERP", project["name"]);
        Assert.Equal("prod-erp", project["slug"]);
        Assert.Equal("main", project["production_branch"]);
        Assert.Equal("success", project["last_build_status"]);
        var branch = (IDictionary<string, object>)Assert.Single(results[^1]);
        Assert.Equal("main", branch["name"]);
        Assert.Equal("production", branch["stage"]);
        Assert.Equal(true, branch["is_production"]);
        Assert.Equal("success", branch["last_build_status"]);
        // A finished build never enters the run queue.
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from ops.run_queue"));
    }

    [Fact]
    public async Task Step_1_verification_queries_meet_their_expectations()
    {
        var cs = await cluster.CreateDatabaseAsync("seedstep1");
        await using var conn = new NpgsqlConnection(cs.ConnectionString);
        var block = SeedSpec.SqlBlocks("### 1. Apply Migrations to Production").Single();
        var statements = SeedSpec.Statements(block);
        Assert.Equal(3, statements.Count);

        Assert.True(await conn.ExecuteScalarAsync<long>(statements[0].Sql) >= 10, "Expected: 10 tables in ops");
        Assert.True(await conn.ExecuteScalarAsync<long>(statements[1].Sql) >= 12, "Expected: 12+ functions in ops");
        var policies = (await conn.QueryAsync(statements[2].Sql)).Cast<IDictionary<string, object>>().ToList();
        Assert.True(policies.Count >= 10, "Expected: 10 tables with policies");
        Assert.All(policies, p => Assert.True((long)p["policy_count"] >= 1));
    }

    [GeneratedRegex(@"\[[A-Z_]+\]")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"Save \w+: (\[[A-Z_]+\])")]
    private static partial Regex SaveComment();
}
