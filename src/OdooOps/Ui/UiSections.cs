using OdooOps.Orgs;

namespace OdooOps.Ui;

/// <summary>Every section of the console's sidebar.</summary>
internal static class UiSections
{
    /// <param name="PerProject">The section lives under a project (Href holds "{project}"): a link only while a project is open.</param>
    /// <param name="SystemAdmins">Shown to system administrators only (the server's own state, not an organisation's).</param>
    public sealed record Section(string Name, string Href, string Group, bool PerProject = false, bool SystemAdmins = false)
    {
        /// <summary>Where the section's link goes on a page of <paramref name="projectSlug"/> (any project: null); null when it cannot link.</summary>
        public string? HrefFor(string? projectSlug) =>
            !PerProject ? Href
            : projectSlug is null ? null
            : Href.Replace("{project}", Uri.EscapeDataString(projectSlug));
    }

    // Grouped the way an operator thinks about them: ship code, watch it run, manage who may do what.
    public static readonly IReadOnlyList<Section> All =
    [
        new("Projects", "app/projects", "Ship"),
        new("Builds", "app/projects/{project}/builds", "Ship", PerProject: true),
        new("Instances", "app/projects/{project}/instances", "Ship", PerProject: true),
        new("Deployments", "app/projects/{project}/deployments", "Ship", PerProject: true),
        new("Runners", "app/runners", "Ship"),
        new("Backups", "app/projects/{project}/backups", "Ship", PerProject: true),
        new("Metrics", "app/metrics", "Observe"),
        new("Advisories", "app/advisories", "Observe"),
        new("Members", "app/members", "Organisation"),
        new("Tokens", "app/tokens", "Organisation"),
        new("Audit log", "app/audit", "Organisation"),
        new("Settings", "app/settings", "Organisation"),
        new("System", "app/system", "Server", SystemAdmins: true),
    ];

    /// <summary>The project a console path (base-relative, "app/projects/{slug}/…") is about, if any.</summary>
    public static string? ProjectSlug(string relativePath)
    {
        var path = relativePath.Split('?', '#')[0];
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return parts is ["app", "projects", var slug, ..] ? Uri.UnescapeDataString(slug) : null;
    }

    /// <summary>The section a path belongs to: the longest link that is a prefix of it (so a project's builds are
    /// "Builds", not "Projects").</summary>
    public static Section? Current(string relativePath)
    {
        var path = "/" + relativePath.Split('?', '#')[0].Trim('/') + "/";
        var slug = ProjectSlug(relativePath);
        return All.Select(s => (Section: s, Href: s.HrefFor(slug)))
            .Where(x => x.Href is not null && path.StartsWith("/" + x.Href + "/", StringComparison.Ordinal))
            .OrderByDescending(x => x.Href!.Length)
            .Select(x => x.Section)
            .FirstOrDefault();
    }

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
