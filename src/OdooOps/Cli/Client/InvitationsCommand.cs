using System.CommandLine;
using OdooOps.Members;

namespace OdooOps.Cli.Client;

/// <summary>
/// `odooops invitations list|accept|decline`: the invitations to organisations and projects waiting for the signed-in
/// user, over the REST API (the same use cases as the console's Invitations page). Admins send them by adding a member.
/// </summary>
internal static class InvitationsCommand
{
    public static Command Create()
    {
        var invitations = new Command("invitations", "Your invitations to organisations and projects: list, accept, decline (needs `odooops login`).");
        invitations.Add(List());
        invitations.Add(Answer("accept", "Accept an invitation: you become a member with its role."));
        invitations.Add(Answer("decline", "Decline an invitation."));
        return invitations;
    }

    static Command List()
    {
        var json = ProjectsCommand.JsonOption();
        var command = new Command("list", "Your open invitations.") { json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var list = await api.GetAsync<InvitationsApi.PendingList>("api/ops/invitations", ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(list); return 0; }
            ConsoleOutput.Table(["invitation", "organisation", "project", "role", "invited by", "expires"],
                list.Invitations.Select(i => (IReadOnlyList<string?>)[
                    i.Id.ToString(), i.OrgSlug, i.ProjectName ?? "—", i.Role, i.InvitedBy ?? "—", $"{i.ExpiresAt:yyyy-MM-dd HH:mm} UTC"]));
            if (list.Invitations.Count == 0) Console.Error.WriteLine("No open invitations.");
            return 0;
        }));
        return command;
    }

    static Command Answer(string verb, string description)
    {
        var id = new Argument<Guid>("ID") { Description = "The invitation's id (see `odooops invitations list`)." };
        var command = new Command(verb, description) { id };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var invitationId = parse.GetValue(id);
            var mine = (await api.GetAsync<InvitationsApi.PendingList>("api/ops/invitations", ct)).Invitations.FirstOrDefault(i => i.Id == invitationId)
                ?? throw new ApiException(System.Net.HttpStatusCode.NotFound, $"No open invitation {invitationId} for you.");
            var place = mine.ProjectName is null ? $"'{mine.OrgSlug}'" : $"project '{mine.ProjectName}' of '{mine.OrgSlug}'";
            if (verb == "accept")
            {
                await api.PostAsync<Invitations.Joined>($"api/ops/invitations/{invitationId}/accept", new { }, ct);
                Console.WriteLine($"Joined {place} as {mine.Role}.");
            }
            else
            {
                await api.PostAsync($"api/ops/invitations/{invitationId}/decline", new { }, ct);
                Console.WriteLine($"Declined the invitation to {place}.");
            }
            return 0;
        }));
        return command;
    }
}
