namespace OdooOps.Projects;

/// <summary>
/// What the server's operator allows as a repository (OPS_ALLOW_LOCAL_REPOS, default off): with it, a project may name a
/// path on the runner's disk or a file:// URL — for the demo data, tests and a single-user laptop; without it, a tenant
/// cannot point a runner at the server's own files (its data dir, other projects' checkouts). Read once at start-up.
/// </summary>
internal sealed record RepoSettings(bool AllowLocal)
{
    public const string AllowLocalKey = "OPS_ALLOW_LOCAL_REPOS";

    public static RepoSettings From(IConfiguration config) => new(config[AllowLocalKey]?.Trim().ToLowerInvariant() switch
    {
        null or "" or "0" or "false" or "no" => false,
        "1" or "true" or "yes" => true,
        var other => throw new InvalidOperationException($"{AllowLocalKey} must be 1 or 0 (got '{other}')."),
    });
}
