using System.Reflection;
using Dapper;
using DbUp;
using DbUp.Engine;
using DbUp.Engine.Output;
using Npgsql;

namespace OdooOps.Database;

/// <summary>
/// Applies the embedded SQL migrations (Database/Migrations/NNNN_name.sql) in name order, each in its own
/// transaction, then the canonical SQL files (<see cref="SqlObjects"/>) when they need it, all under a Postgres
/// advisory lock so that replicas starting together do not race.
/// Forward-only; an applied script whose text changed is refused by name before anything runs.
/// </summary>
public sealed class Migrator(string ownerConnectionString)
{
    /// <summary>
    /// The request roles written into the SQL instead of this database's own groups, which the migrator then leaves
    /// alone: tests make a database as older versions did (<see cref="RequestRoles.Logical"/>, cluster-wide).
    /// </summary>
    internal RequestRoles.Names? FixedRoles { get; init; }

    /// <summary>Advisory lock key shared by every OdooOps process migrating this database.</summary>
    public const long LockKey = 0x6f646f6f6f7073; // "odooops"

    public static IReadOnlyList<SqlScript> EmbeddedScripts()
    {
        var assembly = typeof(Migrator).Assembly;
        return [.. assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("Migrations/", StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n => new SqlScript(n["Migrations/".Length..], Read(assembly, n)))];
    }

    static string Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public async Task<MigrationStatus> GetStatusAsync(IReadOnlyList<SqlScript>? scripts = null, CancellationToken ct = default)
    {
        await using var conn = new NpgsqlConnection(ownerConnectionString);
        await conn.OpenAsync(ct);
        return await ReadStatusAsync(conn, scripts ?? EmbeddedScripts());
    }

    static async Task<MigrationStatus> ReadStatusAsync(NpgsqlConnection conn, IReadOnlyList<SqlScript> scripts)
    {
        var hasJournal = await conn.ExecuteScalarAsync<bool>($"select to_regclass('{MigrationJournal.Table}') is not null");
        var applied = hasJournal
            ? (await conn.QueryAsync<AppliedScript>($"select script_name as Name, checksum as Checksum, applied_at as AppliedAt from {MigrationJournal.Table} order by script_name")).ToList()
            : [];
        var byName = scripts.ToDictionary(s => s.Name, s => MigrationJournal.Checksum(s.Contents));
        var rows = new List<MigrationRow>();
        foreach (var a in applied)
        {
            var state = !byName.TryGetValue(a.Name, out var sum) ? MigrationState.Unknown
                : sum == a.Checksum ? MigrationState.Applied : MigrationState.Changed;
            rows.Add(new MigrationRow(a.Name, state, a.AppliedAt));
        }
        var appliedNames = applied.Select(a => a.Name).ToHashSet();
        rows.AddRange(scripts.Where(s => !appliedNames.Contains(s.Name)).Select(s => new MigrationRow(s.Name, MigrationState.Pending, null)));
        return new MigrationStatus([.. rows.OrderBy(r => r.Name, StringComparer.Ordinal)]);
    }

    /// <param name="beforeApplying">Called under the lock when migrations are pending (the backup hook).</param>
    /// <param name="scripts">The migrations (default: the embedded ones).</param>
    /// <param name="sqlObjects">The canonical SQL files (default: the embedded ones; empty: none, as before they existed).</param>
    public async Task<MigrationResult> MigrateAsync(
        Func<NpgsqlConnection, MigrationStatus, Task>? beforeApplying = null,
        IReadOnlyList<SqlScript>? scripts = null,
        Action<string>? log = null,
        CancellationToken ct = default,
        IReadOnlyList<SqlObjects.Script>? sqlObjects = null)
    {
        scripts ??= EmbeddedScripts();
        sqlObjects ??= SqlObjects.EmbeddedScripts();
        await using var lockConn = new NpgsqlConnection(ownerConnectionString);
        await lockConn.OpenAsync(ct);
        await lockConn.ExecuteAsync("select pg_advisory_lock(@key)", new { key = LockKey });
        try
        {
            var status = await ReadStatusAsync(lockConn, scripts);
            var changed = status.Rows.Where(r => r.State == MigrationState.Changed).Select(r => r.Name).ToList();
            if (changed.Count > 0)
                throw new MigrationChangedException(changed.Count == 1
                    ? $"Migration {changed[0]} was changed after it was applied; migrations are forward-only: restore its original text and add a new script instead."
                    : $"Migrations {string.Join(", ", changed)} were changed after they were applied; migrations are forward-only: restore their original text and add new scripts instead.");
            var pending = status.Rows.Where(r => r.State == MigrationState.Pending).ToList();
            // The groups come first (the scripts grant to them), then what the database gave former groups becomes theirs.
            var roles = FixedRoles ?? await RequestRoles.ForConnectionAsync(lockConn);
            var warnings = FixedRoles is null ? await RequestRoles.EnsureAsync(lockConn, roles) : [];
            var applied = pending.Count == 0 ? [] : await ApplyMigrationsAsync(lockConn, status, scripts, roles, beforeApplying, log);
            if (applied.Count > 0 && FixedRoles is null) warnings = await RequestRoles.EnsureAsync(lockConn, roles);

            SqlObjects.Outcome? objects = null;
            var newer = status.Rows.Where(r => r.State == MigrationState.Unknown).Select(r => r.Name).ToList();
            if (sqlObjects.Count > 0 && newer.Count > 0)
                // A newer binary migrated this database: its files, not ours, say what runs (an old replica during an
                // upgrade, or a rollback, must not put old definitions back at every start).
                objects = new(0, $"not applied: the database is newer than this binary ({string.Join(", ", newer)})");
            else if (sqlObjects.Count > 0)
            {
                var differences = applied.Count > 0 ? ["migrations applied"] : await SqlObjects.DifferencesAsync(lockConn, sqlObjects, roles);
                if (differences.Count > 0)
                {
                    await ApplyWithRetriesAsync(sqlObjects, roles, log, ct);
                    objects = new(sqlObjects.Count, string.Join(", ", differences.Take(5)) + (differences.Count > 5 ? $" and {differences.Count - 5} more" : ""));
                }
            }
            return new MigrationResult(applied, objects) { Warnings = warnings };
        }
        finally
        {
            await lockConn.ExecuteAsync("select pg_advisory_unlock(@key)", new { key = LockKey });
        }
    }

    /// <summary>
    /// The files wait at most <see cref="SqlObjects.LockTimeout"/> for each table lock (a long reader — a backup, a
    /// report — holds them up): the whole set is tried again after a pause, a few times, rather than queueing.
    /// </summary>
    async Task ApplyWithRetriesAsync(IReadOnlyList<SqlObjects.Script> sqlObjects, RequestRoles.Names roles, Action<string>? log, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                SqlObjects.Apply(ownerConnectionString, sqlObjects, roles);
                return;
            }
            catch (MigrationFailedException e) when (attempt < 5 && e.InnerException is PostgresException { SqlState: PostgresErrorCodes.LockNotAvailable })
            {
                log?.Invoke($"SQL files: a table was locked ({e.InnerException.Message}); trying again ({attempt}/5)");
                await Task.Delay(TimeSpan.FromSeconds(2 * attempt), ct);
            }
        }
    }

    async Task<IReadOnlyList<string>> ApplyMigrationsAsync(NpgsqlConnection lockConn, MigrationStatus status, IReadOnlyList<SqlScript> scripts,
        RequestRoles.Names roles, Func<NpgsqlConnection, MigrationStatus, Task>? beforeApplying, Action<string>? log)
    {
        if (beforeApplying is not null) await beforeApplying(lockConn, status);

        var done = status.Rows.Where(r => r.State != MigrationState.Pending).Select(r => r.Name);
        var engine = DeployChanges.To
            .PostgresqlDatabase(ownerConnectionString)
            .WithScripts(scripts)
            .JournalTo(new MigrationJournal(done))
            .WithTransactionPerScript()
            .WithVariablesDisabled()
            .WithPreprocessor(new RoleNames(roles))
            .WithExecutionTimeout(TimeSpan.FromMinutes(30))
            .LogTo(new ActionLog(log))
            .Build();
        var result = engine.PerformUpgrade();
        if (!result.Successful)
            throw new MigrationFailedException(
                $"Migration {result.ErrorScript?.Name ?? "?"} failed: {result.Error?.Message}", result.Error);
        return [.. result.Scripts.Select(s => s.Name)];
    }

    /// <summary>Scripts write ops_app / ops_service: at execution they name this database's groups (the journal keeps the text as written).</summary>
    sealed class RoleNames(RequestRoles.Names roles) : IScriptPreprocessor
    {
        public string Process(string contents) => roles.Substitute(contents);
    }

    sealed class ActionLog(Action<string>? write) : IUpgradeLog
    {
        public void LogTrace(string format, params object[] args) { }
        public void LogDebug(string format, params object[] args) { }
        public void LogInformation(string format, params object[] args) => write?.Invoke(string.Format(format, args));
        public void LogWarning(string format, params object[] args) => write?.Invoke(string.Format(format, args));
        public void LogError(string format, params object[] args) => write?.Invoke(string.Format(format, args));
        public void LogError(Exception ex, string format, params object[] args) => write?.Invoke(string.Format(format, args));
    }

    sealed record AppliedScript(string Name, string Checksum, DateTime AppliedAt);
}

public enum MigrationState { Applied, Pending, Changed, Unknown }

public sealed record MigrationRow(string Name, MigrationState State, DateTime? AppliedAt);

public sealed record MigrationStatus(IReadOnlyList<MigrationRow> Rows)
{
    public bool IsCurrent => Rows.All(r => r.State == MigrationState.Applied);
    public int AppliedCount => Rows.Count(r => r.State == MigrationState.Applied);
}

/// <param name="Applied">The migrations applied.</param>
/// <param name="SqlObjects">The canonical SQL files, when they were applied (null: they were current).</param>
public sealed record MigrationResult(IReadOnlyList<string> Applied, SqlObjects.Outcome? SqlObjects = null)
{
    /// <summary>What the operator should know (e.g. connections to the database could not be restricted).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

internal sealed class MigrationChangedException(string message) : Exception(message);

internal sealed class MigrationFailedException(string message, Exception? inner) : Exception(message, inner);
