using OdooOps.Orgs;

namespace OdooOps.Ui;

/// <summary>Every section the console will have; those not built yet show disabled rather than as broken links.</summary>
public static class UiSections
{
    public sealed record Section(string Name, string Href, bool Built, string Group);

    // Grouped the way an operator thinks about them: ship code, watch it run, manage who may do what.
    public static readonly IReadOnlyList<Section> All =
    [
        new("Projects", "app/projects", true, "Ship"),
        new("Builds", "app/builds", false, "Ship"),
        new("Deployments", "app/deployments", false, "Ship"),
        new("Runners", "app/runners", false, "Ship"),
        new("Backups", "app/backups", false, "Ship"),
        new("Metrics", "app/metrics", false, "Observe"),
        new("Advisories", "app/advisories", false, "Observe"),
        new("Members", "app/members", false, "Organisation"),
        new("Tokens", "app/tokens", true, "Organisation"),
        new("Audit log", "app/audit", false, "Organisation"),
        new("Settings", "app/settings", false, "Organisation"),
    ];

    public const string OrgCookie = "odooops_org";

    /// <summary>The org named in ?org=, else the one remembered in a cookie, else the first; remembered for next time.</summary>
    public static OrgMembership? PickOrg(IReadOnlyList<OrgMembership> orgs, string? requested, HttpContext http)
    {
        var slug = requested ?? http.Request.Cookies[OrgCookie];
        var org = orgs.FirstOrDefault(o => o.Slug == slug) ?? orgs.FirstOrDefault();
        if (org is not null && requested is not null && !http.Response.HasStarted)
            http.Response.Cookies.Append(OrgCookie, org.Slug, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Lax, IsEssential = true });
        return org;
    }
}
