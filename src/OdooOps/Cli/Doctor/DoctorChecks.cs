using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Configuration;
using Npgsql;
using OdooOps.Configuration;
using OdooOps.Database;
using OdooOps.Health;
using OdooOps.Seed;

namespace OdooOps.Cli.Doctor;

/// <summary>
/// The seed's success criteria, checked live: the database as its owner (like `db verify`, whose checks are reused
/// rather than re-written) and the running server over HTTP. A row passes, fails with its reason, or is "not
/// available yet" (features later issues add), which does not fail the run.
/// </summary>
internal static class DoctorChecks
{
    public enum Outcome { Pass, Fail, NotAvailable }

    public sealed record Row(string Name, Outcome Outcome, string Detail);

    static Row Pass(string name, string detail) => new(name, Outcome.Pass, detail);
    static Row Fail(string name, string detail) => new(name, Outcome.Fail, detail);
    static Row Later(string name, string detail = "not available yet") => new(name, Outcome.NotAvailable, detail);

    // DbVerifier's check names (db verify prints them); a rename there shows up here as a failing row, not a silent pass.
    const string FunctionsCheck = "Required RPC functions present";
    static readonly string[] RlsChecks = ["RLS enabled on every table", "At least one policy on every table of ops and registry"];

    /// <summary>
    /// HTTP first: a server that has just started creates its data-protection keys when it first serves a page,
    /// and the secrets row counts them. Rows come back in the order of the seed's table.
    /// </summary>
    public static async Task<IReadOnlyList<Row>> RunAsync(IConfiguration config, string url, string? token, CancellationToken ct)
    {
        var server = await ServerRowsAsync(url, token, ct);
        var database = await DatabaseRowsAsync(config, ct);
        var advisoryScan = await AdvisoryScanCheck.RunAsync(url, config, ct); // 401 for a wrong token, 200 with the real one
        var ingest = await MetricsIngestCheck.RunAsync(url, config, ct); // 401 for a wrong token, 404 for a probe of no project
        return [.. database, .. server, ingest, advisoryScan];
    }

    static async Task<List<Row>> DatabaseRowsAsync(IConfiguration config, CancellationToken ct)
    {
        var dataDir = OpsConfiguration.ResolveDataDir(config);
        // Without a URL the embedded cluster is used; doctor must not initdb one just to look at it.
        if (string.IsNullOrWhiteSpace(config[OpsConfiguration.DatabaseUrl]) && !File.Exists(Path.Combine(dataDir, "pg", "PG_VERSION")))
            return Unreachable($"no database: give --database-url (OPS_DATABASE_URL), or run odooops serve to create the embedded one in {dataDir}");

        DatabaseTarget target;
        try { target = await DatabaseTarget.OpenAsync(config, exclusive: false, ct); }
        catch (Exception e) when (e is not OperationCanceledException) { return Unreachable(Reason(e)); }
        await using (target)
        {
            var owner = target.Owner.ConnectionString;
            var rows = new List<Row>();
            try
            {
                await using var conn = new NpgsqlConnection(owner);
                await conn.OpenAsync(ct);
                var version = await conn.ExecuteScalarAsync<string>("select current_setting('server_version')");
                rows.Add(Pass("Database reachable", $"PostgreSQL {version}, {target.Describe()}"));
            }
            catch (Exception e) when (e is not OperationCanceledException) { return Unreachable($"{target.Describe()}: {Reason(e)}"); }

            rows.Add(await Try("Migrations applied", async () =>
            {
                var status = await new Migrator(owner).GetStatusAsync(ct: ct);
                var detail = $"{status.AppliedCount}/{status.Rows.Count}";
                return status.IsCurrent ? Pass("Migrations applied", detail)
                    : Fail("Migrations applied", $"{detail}: {string.Join(", ", status.Rows.Where(r => r.State != MigrationState.Applied).Select(r => $"{r.Name} {r.State.ToString().ToLowerInvariant()}"))} (odooops db migrate)");
            }));

            IReadOnlyList<DbVerifier.Check>? checks = null;
            rows.Add(await Try("Functions present", async () =>
            {
                checks = await DbVerifier.RunAsync(owner, ct);
                return FromVerifier("Functions present", checks, [FunctionsCheck]);
            }));
            rows.Add(checks is null ? Fail("RLS on every table", "db verify could not run")
                : FromVerifier("RLS on every table", checks, RlsChecks, "RLS enabled on every table, each table of ops and registry with a policy"));

            rows.Add(await Try("Scheduled jobs", () => ScheduledJobsRowAsync(owner, ct)));
            rows.Add(PasswordFileRow(target));
            rows.Add(await Try("Secret: data-protection keys", async () =>
            {
                await using var conn = new NpgsqlConnection(owner);
                var keys = await conn.ExecuteScalarAsync<long>("select count(*) from ops_private.data_protection_keys");
                return keys > 0
                    ? Pass("Secret: data-protection keys", $"{keys} key(s) in ops_private.data_protection_keys")
                    : Fail("Secret: data-protection keys", "none in ops_private.data_protection_keys: start odooops serve (it creates them)");
            }));
            rows.AddRange(SecretRows(config, dataDir));

            rows.Add(await Try("Demo data", async () =>
            {
                await using var conn = new NpgsqlConnection(owner);
                return await conn.ExecuteScalarAsync<bool>("select exists (select 1 from registry.orgs where slug = @OrgSlug)", new { DemoData.OrgSlug })
                    ? Pass("Demo data", $"organisation '{DemoData.OrgSlug}' present")
                    : Later("Demo data", $"no organisation '{DemoData.OrgSlug}' (informational; odooops seed --demo loads it)");
            }));
            return rows;
        }
    }

    static List<Row> Unreachable(string reason) =>
    [
        Fail("Database reachable", reason),
        Fail("Migrations applied", "needs the database"),
        Fail("Functions present", "needs the database"),
        Fail("RLS on every table", "needs the database"),
        Fail("Scheduled jobs", "needs the database"),
        Fail("Secret: database password file", "needs the database"),
        Fail("Secret: data-protection keys", "needs the database"),
        Later("Demo data", "unknown: the database is not reachable"),
    ];

    /// <summary>The shared secrets as `odooops secrets check` sees them (configuration, then the data dir's file).</summary>
    static IEnumerable<Row> SecretRows(IConfiguration config, string dataDir) =>
        OdooOps.Secrets.SecretsSetup.Inspect(config, dataDir).Select(r => r.State switch
        {
            OdooOps.Secrets.SecretState.Set => Pass($"Secret: {r.Name}", $"set ({r.Source})"),
            OdooOps.Secrets.SecretState.Weak => Fail($"Secret: {r.Name}", $"too weak ({r.Source}): use odooops secrets generate"),
            _ => Fail($"Secret: {r.Name}", "missing: odooops secrets generate, or serve on loopback generates it"),
        });

    static Row FromVerifier(string name, IReadOnlyList<DbVerifier.Check> checks, string[] names, string? passDetail = null)
    {
        var found = names.Select(n => (Name: n, Check: checks.FirstOrDefault(c => c.Name == n))).ToList();
        if (found.FirstOrDefault(f => f.Check is null).Name is { } missing) return Fail(name, $"db verify has no check named '{missing}'");
        var failed = found.Where(f => !f.Check!.Passed).ToList();
        return failed.Count == 0
            ? Pass(name, passDetail ?? string.Join("; ", found.Select(f => f.Check!.Detail)))
            : Fail(name, string.Join("; ", failed.Select(f => $"{f.Name}: {f.Check!.Detail}")));
    }

    /// <summary>
    /// The last run of each job in ops.job_runs (read as the owner: RLS shows them to system admins only). A job
    /// whose last run failed fails the row by name; jobs that have not run yet (a fresh install) do not.
    /// </summary>
    internal static async Task<Row> ScheduledJobsRowAsync(string owner, CancellationToken ct)
    {
        const string name = "Scheduled jobs";
        await using var conn = new NpgsqlConnection(owner);
        await conn.OpenAsync(ct);
        var last = await OdooOps.Scheduler.JobRunStore.LastRunsAsync(conn);
        var failed = last.Values.Where(r => r.Outcome == "failed").OrderBy(r => r.Job, StringComparer.Ordinal).ToList();
        if (failed.Count > 0)
            return Fail(name, string.Join("; ", failed.Select(r => $"{r.Job} failed at {r.StartedAt:yyyy-MM-dd HH:mm:ss}Z: {r.Detail?.ReplaceLineEndings(" ")}")));
        var names = Server.ServerApp.Jobs.Select(j => j.Name).Union(last.Keys).Order(StringComparer.Ordinal);
        return Pass(name, string.Join(", ", names.Select(n => last.TryGetValue(n, out var r) ? $"{n} {r.Outcome}" : $"{n} not run yet")));
    }

    /// <summary>The embedded cluster's superuser password (LocalPostgres keeps it in &lt;data-dir&gt;/pg-password) must be 0600.</summary>
    static Row PasswordFileRow(DatabaseTarget target)
    {
        const string name = "Secret: database password file";
        if (target.Local is null) return Later(name, "not applicable: external database (its password is in OPS_DATABASE_URL)");
        var file = Path.Combine(target.Local.DataDir, "pg-password");
        if (!File.Exists(file)) return Fail(name, $"{file} is missing");
        var mode = File.GetUnixFileMode(file);
        return mode == (UnixFileMode.UserRead | UnixFileMode.UserWrite)
            ? Pass(name, $"{file} is 0600")
            : Fail(name, $"{file} is {Convert.ToString((int)mode, 8)}: chmod 600 it");
    }

    static async Task<List<Row>> ServerRowsAsync(string url, string? token, CancellationToken ct)
    {
        using var api = new ApiClient(url, token, TimeSpan.FromSeconds(10));
        var rows = new List<Row>();
        string? down = null; // once the server cannot be reached, the other rows say so instead of waiting again

        async Task Add(string name, Func<Task<Row>> check)
        {
            if (down is not null) { rows.Add(Fail(name, down)); return; }
            try { rows.Add(await check()); }
            catch (ApiException e) when (e.Status is null) { down = e.Message; rows.Add(Fail(name, down)); }
            catch (Exception e) when (e is not OperationCanceledException) { rows.Add(Fail(name, Reason(e))); }
        }

        await Add("UI serving", async () =>
        {
            using var r = await api.RawAsync(HttpMethod.Get, "login", null, ct, withToken: false);
            return r.StatusCode == HttpStatusCode.OK ? Pass("UI serving", $"GET {api.BaseUrl}/login 200") : Fail("UI serving", $"GET /login answered {(int)r.StatusCode}");
        });
        await Add("API answering", async () =>
        {
            using var ready = await api.RawAsync(HttpMethod.Get, "readyz", null, ct, withToken: false);
            if (ready.StatusCode != HttpStatusCode.OK) return Fail("API answering", $"GET /readyz answered {(int)ready.StatusCode}: {await ApiClient.DescribeAsync(ready, ct)}");
            var readiness = await ready.Content.ReadFromJsonAsync<HealthApi.ReadyResponse>(ApiClient.Json, ct);
            var detail = $"/readyz {readiness?.Status} (migrations {readiness?.Migrations})";
            if (!api.HasToken) return Pass("API answering", $"{detail}; no token, so /api/ops/projects was not tried (odooops login or {ClientConfig.TokenVariable})");
            using var projects = await api.RawAsync(HttpMethod.Get, "api/ops/projects", null, ct);
            if (projects.StatusCode == HttpStatusCode.Unauthorized) return Fail("API answering", $"{detail}; the token was refused: run odooops login");
            if (projects.StatusCode != HttpStatusCode.OK) return Fail("API answering", $"{detail}; GET /api/ops/projects answered {(int)projects.StatusCode}");
            using var body = await JsonDocument.ParseAsync(await projects.Content.ReadAsStreamAsync(ct), cancellationToken: ct);
            return body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("projects", out var list) && list.ValueKind == JsonValueKind.Array
                ? Pass("API answering", $"{detail}; /api/ops/projects lists {list.GetArrayLength()} project(s)")
                : Fail("API answering", $"{detail}; /api/ops/projects has no \"projects\" array");
        });
        // A personal access token cannot sign in to pages (they use the session cookie), so the pages are checked from
        // the outside: an anonymous visitor must be sent to the sign-in page, which proves the page exists and is guarded.
        await Add("Projects page", () => PageRowAsync(api, "Projects page", "app/projects", missingIsLater: false, ct));
        // Any id works: the redirect happens before the page looks the project up. A guid fits whatever the route's constraint.
        await Add("Branches page", () => PageRowAsync(api, "Branches page", $"app/projects/{Guid.Empty}/branches", missingIsLater: true, ct));
        await Add("Build trigger", () => BuildTriggerRowAsync(api, ct));
        return rows;
    }

    /// <summary>
    /// The trigger function is checked without queuing anything: a body that names no project must come back as a
    /// 400 naming project_id (with a token), or a 401 ProblemDetails (without one) — either proves it answers.
    /// </summary>
    static async Task<Row> BuildTriggerRowAsync(ApiClient api, CancellationToken ct)
    {
        const string name = "Build trigger";
        using var r = await api.RawAsync(HttpMethod.Post, "functions/v1/ops-trigger-build", new { }, ct, withToken: api.HasToken);
        var body = await r.Content.ReadAsStringAsync(ct);
        if (r.StatusCode == HttpStatusCode.BadRequest && body.Contains("project_id", StringComparison.Ordinal))
            return Pass(name, "POST /functions/v1/ops-trigger-build validates its input (400 naming project_id)");
        if (!api.HasToken && r.StatusCode == HttpStatusCode.Unauthorized)
            return Pass(name, "POST /functions/v1/ops-trigger-build asks for credentials (401); no token, so validation was not tried");
        return Fail(name, $"POST /functions/v1/ops-trigger-build answered {(int)r.StatusCode}");
    }

    static async Task<Row> PageRowAsync(ApiClient api, string name, string path, bool missingIsLater, CancellationToken ct)
    {
        using var r = await api.RawAsync(HttpMethod.Get, path, null, ct, withToken: false);
        var location = r.Headers.Location?.ToString() ?? "";
        if (r.StatusCode == HttpStatusCode.Found && location.Contains("/login?returnUrl=", StringComparison.Ordinal))
            return Pass(name, $"GET /{path} sends anonymous visitors to sign in (302 /login?returnUrl=…); a token cannot open pages, so the signed-in view is not checked");
        if (r.StatusCode == HttpStatusCode.NotFound && missingIsLater) return Later(name, $"not available yet (GET /{path} answered 404)");
        return Fail(name, $"GET /{path} answered {(int)r.StatusCode}{(location.Length > 0 ? $" to {location}" : "")}, expected a 302 to /login?returnUrl=…");
    }

    static async Task<Row> Try(string name, Func<Task<Row>> check)
    {
        try { return await check(); }
        catch (Exception e) when (e is not OperationCanceledException) { return Fail(name, Reason(e)); }
    }

    static string Reason(Exception e) => e switch
    {
        PostgresException pg => $"{pg.MessageText} (SQLSTATE {pg.SqlState})",
        NpgsqlException { InnerException: System.Net.Sockets.SocketException s } => $"cannot reach the database: {s.Message}",
        _ => e.Message.ReplaceLineEndings(" "),
    };
}
