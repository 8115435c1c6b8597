using Dapper;
using OdooOps.Auth;
using OdooOps.Builds;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Auth;

/// <summary>
/// The C# names of roles and build statuses are the database's: the CHECKs of the membership and builds tables and
/// ops.role_rank say the same, so neither side can gain or lose one alone.
/// </summary>
public sealed class RoleTests(ClassDatabase db) : IClassFixture<ClassDatabase>
{
    async Task<string[]> CheckedValuesAsync(string table, string column)
    {
        await using var conn = await db.OpenOwnerAsync();
        var definitions = (await conn.QueryAsync<string>("""
            select pg_get_constraintdef(c.oid) from pg_constraint c
              join pg_attribute a on a.attrelid = c.conrelid and a.attnum = any (c.conkey)
             where c.conrelid = @table::regclass and c.contype = 'c' and a.attname = @column
            """, new { table, column })).ToList();
        var definition = Assert.Single(definitions);
        return [.. System.Text.RegularExpressions.Regex.Matches(definition, @"'([a-z_]+)'::text").Select(m => m.Groups[1].Value)];
    }

    [Fact]
    public async Task Organisation_and_project_roles_are_the_database_checks()
    {
        Assert.Equal(Roles.Names(Roles.All).Order(), (await CheckedValuesAsync("registry.org_members", "role")).Order());
        Assert.Equal(Roles.Names(Roles.Project).Order(), (await CheckedValuesAsync("ops.project_members", "role")).Order());
    }

    [Fact]
    public async Task Role_ranks_are_the_database_ranks()
    {
        await using var conn = await db.OpenOwnerAsync();
        foreach (var role in Roles.All)
            Assert.Equal((int)role, await conn.ExecuteScalarAsync<int>("select ops.role_rank(@name)", new { name = role.Name() }));
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select ops.role_rank('superuser')"));
        Assert.Null(Roles.Parse("superuser"));
        Assert.False(((string?)null).AtLeast(Role.Viewer));
    }

    [Fact]
    public async Task Build_statuses_are_the_database_check()
    {
        Assert.Equal(BuildStatus.All.Order(), (await CheckedValuesAsync("ops.builds", "status")).Order());
        Assert.All(BuildStatus.Final, s => Assert.True(BuildStatus.IsFinal(s)));
        Assert.False(BuildStatus.IsFinal(BuildStatus.Queued) || BuildStatus.IsFinal(BuildStatus.Running));
    }
}
