using OdooOps.Orgs;

namespace OdooOps.Ui;

/// <summary>Every section the console will have; those not built yet show disabled rather than as broken links.</summary>
public static class UiSections
{
    public sealed record Section(string Name, string Href, bool Built);

    public static readonly IReadOnlyList<Section> All =
    [
        new("Projects", "app/projects", true),
        new("Builds", "app/builds", false),
        new("Runners", "app/runners", false),
        new("Metrics", "app/metrics", false),
        new("Advisories", "app/advisories", false),
        new("Deployments", "app/deployments", false),
        new("Backups", "app/backups", false),
        new("Members", "app/members", false),
        new("Tokens", "app/tokens", false),
        new("Audit log", "app/audit", false),
        new("Settings", "app/settings", false),
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
