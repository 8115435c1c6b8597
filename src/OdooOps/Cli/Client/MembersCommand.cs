using System.CommandLine;
using System.Net;
using System.Net.Http.Json;
using OdooOps.Auth;
using OdooOps.Members;

namespace OdooOps.Cli.Client;

/// <summary>
/// `odooops members list|add|role|remove|invitations|withdraw`: an organisation's members (or, with --project, a
/// project's own) over the REST API — MemberAdmin and Invitations behind it, as on the console's Members pages.
/// </summary>
internal static class MembersCommand
{
    public static Command Create()
    {
        var members = new Command("members",
            "Members of your organisation, or with --project of a project: list, add by email (anyone not yet in the organisation is invited), change role, remove; open invitations (needs `odooops login`).");
        members.Add(List());
        members.Add(Add());
        members.Add(Role());
        members.Add(Remove());
        members.Add(InvitationList());
        members.Add(Withdraw());
        return members;
    }

    /// <summary>--org and --project, and the API path of the place they name ("api/ops/orgs/{id}" or "api/ops/projects/{id}").</summary>
    sealed record Place(Option<string?> Org, Option<string?> Project)
    {
        public static Place Create() => new(
            ProjectsCommand.OrgOption("The organisation's slug or id (default: your only one); with --project, the project's organisation."),
            new("--project") { Description = "A project's own members instead of the organisation's (its slug or id)." });

        public async Task<(string Path, string Name)> ResolveAsync(ApiClient api, ParseResult parse, CancellationToken ct)
        {
            if (parse.GetValue(Project) is { } p)
            {
                var project = await ProjectResolver.ResolveAsync(api, p, parse.GetValue(Org), ct);
                return ($"api/ops/projects/{project.Id}", $"project {project.Slug}");
            }
            var org = await RunnerAdminCommand.ResolveOrgAsync(api, parse.GetValue(Org), ct);
            return ($"api/ops/orgs/{org.Id}", org.Slug);
        }
    }

    static Command With(string name, string description, Place place, params Symbol[] symbols)
    {
        var command = new Command(name, description) { place.Org, place.Project };
        foreach (var s in symbols)
            if (s is Option o) command.Add(o); else command.Add((Argument)s);
        return command;
    }

    static Option<string> RoleOption() => new("--role")
    {
        Description = $"The role: {string.Join(", ", Roles.Names(Roles.All.Reverse()))} (owner: organisations only).",
        Required = true,
    };

    static Argument<string> MemberArgument() => new("MEMBER") { Description = "The member's email or user id." };

    static Command List()
    {
        var place = Place.Create();
        var json = ProjectsCommand.JsonOption();
        var command = With("list", "Members and their roles.", place, json);
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var (path, _) = await place.ResolveAsync(api, parse, ct);
            var list = await api.GetAsync<MembersApi.MemberList>($"{path}/members", ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(list); return 0; }
            ConsoleOutput.Table(["user", "email", "name", "role", "since"], list.Members.Select(m => (IReadOnlyList<string?>)[
                m.UserId.ToString(), m.Email, m.DisplayName ?? "—", m.Role, ConsoleOutput.Ago(m.CreatedAt)]));
            if (list.Members.Count == 0) Console.Error.WriteLine("No members.");
            return 0;
        }));
        return command;
    }

    static Command Add()
    {
        var place = Place.Create();
        var email = new Argument<string>("EMAIL") { Description = "Their email." };
        var role = RoleOption();
        var command = With("add", "Add someone by email: a colleague of the organisation joins a project at once; anyone else gets an invitation to accept.", place, email, role);
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var (path, name) = await place.ResolveAsync(api, parse, ct);
            using var response = await api.RawAsync(HttpMethod.Post, $"{path}/members", new MembersApi.AddMember(parse.GetValue(email), parse.GetValue(role)), ct);
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                var invitation = (await response.Content.ReadFromJsonAsync<Invitation>(ApiClient.Json, ct))!;
                Console.WriteLine($"Invited {invitation.Email} to {name} as {invitation.Role}; they join once they accept (by {invitation.ExpiresAt:yyyy-MM-dd}).");
                return 0;
            }
            if (!response.IsSuccessStatusCode) throw new ApiException(response.StatusCode, await ApiClient.DescribeAsync(response, ct));
            var member = (await response.Content.ReadFromJsonAsync<Member>(ApiClient.Json, ct))!;
            Console.WriteLine($"{member.Email} joined {name} as {member.Role}.");
            return 0;
        }));
        return command;
    }

    static Command Role()
    {
        var place = Place.Create();
        var member = MemberArgument();
        var role = RoleOption();
        var command = With("role", "Change a member's role (only owners grant or change the owner role; an organisation keeps one owner).", place, member, role);
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var (path, name) = await place.ResolveAsync(api, parse, ct);
            var target = await FindAsync(api, path, name, parse.GetValue(member)!, ct);
            using var response = await api.RawAsync(HttpMethod.Patch, $"{path}/members/{target.UserId}", new MembersApi.ChangeRole(parse.GetValue(role)), ct);
            if (!response.IsSuccessStatusCode) throw new ApiException(response.StatusCode, await ApiClient.DescribeAsync(response, ct));
            var after = (await response.Content.ReadFromJsonAsync<Member>(ApiClient.Json, ct))!;
            Console.WriteLine($"{after.Email} is now {after.Role} in {name}.");
            return 0;
        }));
        return command;
    }

    static Command Remove()
    {
        var place = Place.Create();
        var member = MemberArgument();
        var command = With("remove", "Remove a member (an organisation's last owner cannot be removed).", place, member);
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var (path, name) = await place.ResolveAsync(api, parse, ct);
            var target = await FindAsync(api, path, name, parse.GetValue(member)!, ct);
            await api.DeleteAsync($"{path}/members/{target.UserId}", ct);
            Console.WriteLine($"Removed {target.Email} from {name}.");
            return 0;
        }));
        return command;
    }

    static Command InvitationList()
    {
        var place = Place.Create();
        var json = ProjectsCommand.JsonOption();
        var command = With("invitations", "Open invitations sent from here (admins).", place, json);
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var (path, _) = await place.ResolveAsync(api, parse, ct);
            var list = await api.GetAsync<InvitationsApi.InvitationList>($"{path}/invitations", ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(list); return 0; }
            ConsoleOutput.Table(["invitation", "email", "role", "sent", "expires"], list.Invitations.Select(i => (IReadOnlyList<string?>)[
                i.Id.ToString(), i.Email, i.Role, ConsoleOutput.Ago(i.CreatedAt), $"{i.ExpiresAt:yyyy-MM-dd HH:mm} UTC"]));
            if (list.Invitations.Count == 0) Console.Error.WriteLine("No open invitations.");
            return 0;
        }));
        return command;
    }

    static Command Withdraw()
    {
        var place = Place.Create();
        var id = new Argument<Guid>("INVITATION") { Description = "The invitation's id (see `odooops members invitations`)." };
        var command = With("withdraw", "Withdraw an open invitation.", place, id);
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var (path, name) = await place.ResolveAsync(api, parse, ct);
            await api.DeleteAsync($"{path}/invitations/{parse.GetValue(id)}", ct);
            Console.WriteLine($"Withdrew the invitation to {name}.");
            return 0;
        }));
        return command;
    }

    static async Task<Member> FindAsync(ApiClient api, string path, string name, string emailOrId, CancellationToken ct)
    {
        var members = (await api.GetAsync<MembersApi.MemberList>($"{path}/members", ct)).Members;
        return members.FirstOrDefault(m => Guid.TryParse(emailOrId, out var id) ? m.UserId == id : string.Equals(m.Email, emailOrId.Trim(), StringComparison.OrdinalIgnoreCase))
               ?? throw new ArgumentException($"No member '{emailOrId}' in {name}: see odooops members list.");
    }
}
