using Npgsql;
using OdooOps.Runners.Agent.Instances;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Runners.Agent.Backups;

/// <summary>One thing a neutralisation changed, and how many rows.</summary>
internal sealed record NeutralizationChange(string Item, long Count);

/// <summary>What a neutralisation changed and the check after it; a database that fails the check must not start.</summary>
internal sealed record NeutralizationReport(IReadOnlyList<NeutralizationChange> Changes, IReadOnlyList<VerificationCheck> Checks)
{
    public bool Passed => Checks.All(c => c.Passed);

    /// <summary>The failed checks in one line (empty when it passed).</summary>
    public string Failures => string.Join("; ", Checks.Where(c => !c.Passed).Select(c => $"{c.Name}: {c.Detail}"));

    /// <summary>The report as log lines, for a build's or task's log.</summary>
    public IEnumerable<string> Lines() =>
        Changes.Select(c => $"Neutralisation: {c.Item} ({c.Count})")
            .Concat(Checks.Select(c => $"Neutralisation check {c.Name}: {(c.Passed ? "passed" : "FAILED")} — {c.Detail}"));
}

/// <summary>
/// Makes a restored copy of a database harmless for staging or development. Odoo 16.0 and later neutralise
/// themselves: the caller runs <c>odoo-bin neutralize -d DB</c> in the sandbox first, then <see cref="NeutralizeAsync"/>
/// only sets web.base.url (Odoo's command leaves it). Before 16.0, <see cref="NeutralizeAsync"/> runs OdooOps' own SQL
/// (neutralize.sql): outgoing mail servers off and a catch-all, incoming ones off, crons off but the auto-vacuum,
/// payment providers disabled, delivery carriers in test mode, web.base.url (frozen), database.is_neutralized.
/// Both end with the same check. Runs as the project's role, in one transaction.
/// </summary>
internal sealed class Neutralizer(OdooDatabaseServer server)
{
    static readonly Lazy<string> Sql = new(() =>
    {
        using var stream = typeof(Neutralizer).Assembly.GetManifestResourceStream("Backups/neutralize.sql")!;
        return new StreamReader(stream).ReadToEnd();
    });

    /// <summary>Whether Odoo has its own <c>odoo-bin neutralize</c> (16.0 and later), to run before <see cref="NeutralizeAsync"/>.</summary>
    public static bool OdooNeutralizes(string odooVersion) => BackupManifest.Major(odooVersion) >= 16;

    public async Task<NeutralizationReport> NeutralizeAsync(Guid projectId, bool production, string database, string odooVersion, string baseUrl,
        CancellationToken ct)
    {
        CheckUrl(baseUrl);
        await using var conn = await OpenAsync(projectId, production, database, ct);
        var changes = new List<NeutralizationChange>();
        await using (var tx = await conn.BeginTransactionAsync(ct))
        {
            await using (var cmd = new NpgsqlCommand("select item, changed from pg_temp.odooops_neutralize($1, $2)", conn, tx)
            {
                Parameters = { new() { Value = baseUrl }, new() { Value = !OdooNeutralizes(odooVersion) } },
            })
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
                while (await reader.ReadAsync(ct)) changes.Add(new NeutralizationChange(reader.GetString(0), reader.GetInt64(1)));
            await tx.CommitAsync(ct);
        }
        return new NeutralizationReport(changes, await ChecksAsync(conn, baseUrl, ct));
    }

    /// <summary>The check alone: no active outgoing mail server but the catch-all, no cron but the auto-vacuum, …</summary>
    public async Task<NeutralizationReport> CheckAsync(Guid projectId, bool production, string database, string baseUrl, CancellationToken ct)
    {
        CheckUrl(baseUrl);
        await using var conn = await OpenAsync(projectId, production, database, ct);
        return new NeutralizationReport([], await ChecksAsync(conn, baseUrl, ct));
    }

    static async Task<List<VerificationCheck>> ChecksAsync(NpgsqlConnection conn, string baseUrl, CancellationToken ct)
    {
        var checks = new List<VerificationCheck>();
        await using var cmd = new NpgsqlCommand("select name, passed, detail from pg_temp.odooops_neutralization_check($1)", conn)
        {
            Parameters = { new() { Value = baseUrl } },
        };
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) checks.Add(new VerificationCheck(reader.GetString(0), reader.GetBoolean(1), reader.GetString(2)));
        return checks;
    }

    async Task<NpgsqlConnection> OpenAsync(Guid projectId, bool production, string database, CancellationToken ct)
    {
        var conn = new NpgsqlConnection(server.ProjectConnection(projectId, production, database).ConnectionString);
        try
        {
            await conn.OpenAsync(ct);
            await using var define = new NpgsqlCommand(Sql.Value, conn);
            await define.ExecuteNonQueryAsync(ct);
            return conn;
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
    }

    static void CheckUrl(string baseUrl)
    {
        if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new ArgumentException($"'{baseUrl}' is not an http(s) URL.", nameof(baseUrl));
    }
}
