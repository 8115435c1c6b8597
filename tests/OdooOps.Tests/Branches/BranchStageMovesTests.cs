using OdooOps.Branches.Pages;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Branches;

/// <summary>The moves the branches page offers, by role, from the database's own rule (ops.stage_move_role).</summary>
public sealed class BranchStageMovesTests(ClassDatabase db) : IClassFixture<ClassDatabase>
{
    [Theory]
    [InlineData("owner", "development", "staging,production")]
    [InlineData("admin", "staging", "development,production")]
    [InlineData("admin", "production", "")]
    [InlineData("developer", "development", "staging")]
    [InlineData("developer", "staging", "development")]
    [InlineData("developer", "production", "")]
    [InlineData("tester", "development", "")]
    [InlineData("viewer", "staging", "")]
    [InlineData(null, "staging", "")]
    public async Task Roles_are_offered_the_moves_they_may_make(string? role, string stage, string expected)
    {
        await using var conn = await db.OpenOwnerAsync();
        var needed = await BranchStageMoves.NeededAsync(conn, null);
        Assert.Equal(expected, string.Join(",", new BranchStageMoves(role, needed).Targets(stage)));
    }
}
