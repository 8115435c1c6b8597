namespace OdooOps.Auth;

/// <summary>
/// The roles of the access model, lowest first. A user's role on a project is the higher of their organisation role
/// and their project role. The database knows them by the same names in the same order (ops.role_rank, the CHECKs of
/// registry.org_members and ops.project_members); RoleTests compares the two.
/// </summary>
internal enum Role { Viewer = 1, Tester = 2, Developer = 3, Admin = 4, Owner = 5 }

internal static class Roles
{
    /// <summary>Every role, lowest first: what an organisation membership may hold.</summary>
    public static readonly IReadOnlyList<Role> All = Enum.GetValues<Role>();

    /// <summary>What a project membership may hold: owner is an organisation role.</summary>
    public static readonly IReadOnlyList<Role> Project = [Role.Viewer, Role.Tester, Role.Developer, Role.Admin];

    /// <summary>The role's name, as the API, the database and people write it.</summary>
    public static string Name(this Role role) => role.ToString().ToLowerInvariant();

    public static string[] Names(IEnumerable<Role> roles) => [.. roles.Select(Name)];

    /// <summary>The role a name stands for; null for null or an unknown name.</summary>
    public static Role? Parse(string? name) => All.Cast<Role?>().FirstOrDefault(r => r!.Value.Name() == name);

    /// <summary>Whether a role as the database answers it (null: no role at all) reaches <paramref name="least"/>.</summary>
    public static bool AtLeast(this string? role, Role least) => Parse(role) is { } r && r >= least;
}
