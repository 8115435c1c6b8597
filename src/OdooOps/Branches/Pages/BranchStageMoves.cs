using Dapper;
using Npgsql;
using OdooOps.Auth;
using OdooOps.Projects;

namespace OdooOps.Branches.Pages;

/// <summary>
/// Which stage moves the console offers a user: those their role allows (the database's ops.stage_move_role, read once
/// per page), except that the production branch itself is never moved down from here: it is replaced by promoting
/// another branch, so the console cannot leave a project without production by accident.
/// </summary>
internal sealed record BranchStageMoves(string? Role, IReadOnlyDictionary<(string From, string To), string> Needed)
{
    public const string ProductionStays = "The production branch is not moved down: promote another branch to production to replace it.";

    public static async Task<BranchStageMoves> LoadAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId) =>
        new(await ProjectStore.RoleAsync(c, t, projectId), await NeededAsync(c, t));

    /// <summary>The least role of every move between two stages.</summary>
    public static async Task<IReadOnlyDictionary<(string From, string To), string>> NeededAsync(NpgsqlConnection c, NpgsqlTransaction? t) =>
        (await c.QueryAsync<(string From, string To, string Role)>("""
            select f, t, ops.stage_move_role(f, t) from unnest(@stages) f, unnest(@stages) t where f <> t
            """, new { stages = BranchStore.Stages }, t)).ToDictionary(n => (n.From, n.To), n => n.Role);

    public IReadOnlyList<string> Targets(string stage) => stage == "production"
        ? []
        : [.. BranchStore.Stages.Where(to => to != stage && Role.AtLeast(Roles.Parse(Needed[(stage, to)])!.Value)).OrderBy(to => to == "production")];
}
