using System.CommandLine;
using OdooOps.Orgs;

namespace OdooOps.Cli.Client;

/// <summary>
/// `odooops orgs list|show|update`: your organisations and their settings (name, slug, default Odoo version), through
/// /api/ops/orgs; owners and admins update them. (`odooops org create`, singular, is the administrator's verb.)
/// </summary>
internal static class OrgsCommand
{
    public static Command Create()
    {
        var orgs = new Command("orgs", "Your organisations and their settings: list, show, update (needs `odooops login`).");
        orgs.Add(List());
        orgs.Add(Show());
        orgs.Add(Update());
        return orgs;
    }

    static Argument<string> OrgArgument() => new("org") { Description = "The organisation's slug or id." };

    static Command List()
    {
        var json = ProjectsCommand.JsonOption();
        var command = new Command("list", "Your organisations and your role in each.") { json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var list = await api.GetAsync<OrgsApi.OrgList>("api/ops/orgs", ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(list); return 0; }
            ConsoleOutput.Table(["slug", "name", "role"], list.Orgs.Select(o => (IReadOnlyList<string?>)[o.Slug, o.Name, o.Role]));
            if (list.Orgs.Count == 0) Console.Error.WriteLine("No organisations: accept an invitation (odooops invitations list) or ask your administrator.");
            return 0;
        }));
        return command;
    }

    static Command Show()
    {
        var (org, json) = (OrgArgument(), ProjectsCommand.JsonOption());
        var command = new Command("show", "An organisation's settings.") { org, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var settings = await api.GetAsync<OrgSettings>($"api/ops/orgs/{await ResolveAsync(api, parse.GetValue(org)!, ct)}", ct);
            Print(settings, parse.GetValue(json));
            return 0;
        }));
        return command;
    }

    static Command Update()
    {
        var (org, json) = (OrgArgument(), ProjectsCommand.JsonOption());
        var name = new Option<string?>("--name") { Description = "The organisation's name." };
        var slug = new Option<string?>("--slug") { Description = "Its slug (lower-case letters, digits, dashes): the console's ?org= and the CLI's --org." };
        var version = new Option<string?>("--default-odoo-version") { Description = "The Odoo version new projects get when they name none, e.g. 19.0." };
        var command = new Command("update", "Change the name, slug or default Odoo version (owners and admins).") { org, name, slug, version, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            var change = new OrgUpdate.Change(parse.GetValue(name), parse.GetValue(slug), parse.GetValue(version));
            if (change is { Name: null, Slug: null, DefaultOdooVersion: null })
                throw new ArgumentException("Give --name, --slug or --default-odoo-version.");
            using var api = ApiClient.FromConfig();
            var id = await ResolveAsync(api, parse.GetValue(org)!, ct);
            using var response = await api.RawAsync(HttpMethod.Patch, $"api/ops/orgs/{id}", change, ct);
            if (!response.IsSuccessStatusCode) throw new ApiException(response.StatusCode, await ApiClient.DescribeAsync(response, ct));
            var saved = await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<OrgSettings>(response.Content, ApiClient.Json, ct);
            Print(saved!, parse.GetValue(json));
            return 0;
        }));
        return command;
    }

    static void Print(OrgSettings s, bool json)
    {
        if (json) { ConsoleOutput.Json(s); return; }
        Console.WriteLine($"{s.Name} ({s.Slug}): default Odoo version {s.DefaultOdooVersion}; you are {s.Role}.");
    }

    /// <summary>An id as given, or the organisation of that slug among yours.</summary>
    static async Task<Guid> ResolveAsync(ApiClient api, string slugOrId, CancellationToken ct) =>
        Guid.TryParse(slugOrId, out var id) ? id
        : (await api.GetAsync<OrgsApi.OrgList>("api/ops/orgs", ct)).Orgs.FirstOrDefault(o => o.Slug == slugOrId)?.Id
          ?? throw new ArgumentException($"No organisation '{slugOrId}' of yours: see odooops orgs list.");
}
