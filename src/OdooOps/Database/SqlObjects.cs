using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Dapper;
using DbUp;
using DbUp.Engine;
using DbUp.Helpers;
using DbUp.Support;
using Npgsql;

namespace OdooOps.Database;

/// <summary>
/// The canonical SQL files, <c>&lt;Feature&gt;/Sql/*.sql</c>: one idempotent file per function, view, trigger and table
/// access set (the request roles' privileges and the RLS policies), embedded as <c>Sql/&lt;file&gt;</c>. They say what
/// runs now; migrations only change tables. The whole set is applied in one transaction under the migration lock, in
/// this order: functions, views, triggers, access sets, each by file name (function bodies are not checked at creation,
/// so functions may call each other in any order). It is re-applied when a migration ran, when a file changed, or when
/// an object in the database no longer matches what the files made (edited by hand, dropped by a migration), and not
/// otherwise: re-creating the policies takes an ACCESS EXCLUSIVE lock on every table, which a replica starting next
/// to running ones must not take for nothing.
/// </summary>
public static partial class SqlObjects
{
    public enum Kind { Function, View, Trigger, Access }

    public sealed record Script(string Name, Kind Kind, string Contents);

    /// <summary>What the migrator did with the set: nothing, or applied it (and why).</summary>
    public sealed record Outcome(int Files, string Reason);

    public const string StateTable = "ops_private.sql_objects";

    public static IReadOnlyList<Script> EmbeddedScripts()
    {
        var assembly = typeof(SqlObjects).Assembly;
        return Ordered(assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("Sql/", StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n => new Script(n["Sql/".Length..], KindOf(n), Read(assembly, n))));
    }

    public static IReadOnlyList<Script> Ordered(IEnumerable<Script> scripts) =>
        [.. scripts.OrderBy(s => s.Kind).ThenBy(s => s.Name, StringComparer.Ordinal)];

    static Kind KindOf(string name) =>
        name.EndsWith(".policies.sql", StringComparison.Ordinal) ? Kind.Access
        : name.EndsWith(".trigger.sql", StringComparison.Ordinal) ? Kind.Trigger
        : name.EndsWith(".view.sql", StringComparison.Ordinal) ? Kind.View
        : Kind.Function;

    static string Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>The functions each file defines (schema.name), for `db verify`.</summary>
    public static IEnumerable<(string Function, string File)> DefinedFunctions(IEnumerable<Script> scripts) =>
        scripts.SelectMany(s => FunctionPattern().Matches(s.Contents).Select(m => (m.Groups[1].Value, s.Name)));

    /// <summary>The triggers (table.trigger) and policies (table.policy) the files define, for `db verify`.</summary>
    public static IEnumerable<(string Object, string File)> DefinedTriggersAndPolicies(IEnumerable<Script> scripts) =>
        scripts.SelectMany(s => TriggerPattern().Matches(s.Contents).Concat(PolicyPattern().Matches(s.Contents))
            .Select(m => ($"{m.Groups[2].Value}.{m.Groups[1].Value}", s.Name)));

    /// <summary>
    /// A digest of every object the files make, as the catalog has it: function definitions with their privileges,
    /// triggers, policies and the privileges on each table. Applying the files again changes none of these. This
    /// database's group roles are digested under the names the files write, so a copy of a database whose privileges
    /// moved to its own groups digests the same.
    /// </summary>
    static string CatalogSql(RequestRoles.Names roles) => CatalogTemplate
        .Replace("md5(", "md5(" + string.Concat(Enumerable.Repeat("pg_catalog.regexp_replace(", 2)))
        .Replace("#digest#", $@", '\m{roles.App}\M', 'ops_app', 'g'), '\m{roles.Service}\M', 'ops_service', 'g')");

    // Every md5( argument ends in #digest#, where the role names are put back (see CatalogSql).
    const string CatalogTemplate = """
        select 'function' as kind, p.oid::pg_catalog.regprocedure::text as name,
               pg_catalog.md5(pg_catalog.pg_get_functiondef(p.oid) || coalesce(p.proacl::text, '')#digest#) as digest
          from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
         where n.nspname in ('ops', 'registry', 'ops_private') and p.prokind in ('f', 'p')
        union all
        select 'trigger', t.tgrelid::pg_catalog.regclass::text || '.' || t.tgname,
               pg_catalog.md5(pg_catalog.pg_get_triggerdef(t.oid) || t.tgenabled::text#digest#)
          from pg_catalog.pg_trigger t join pg_catalog.pg_class c on c.oid = t.tgrelid
          join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where not t.tgisinternal and n.nspname in ('ops', 'registry', 'ops_private')
        union all
        select 'policy', p.polrelid::pg_catalog.regclass::text || '.' || p.polname,
               pg_catalog.md5(concat_ws('|', p.polcmd, p.polpermissive,
                   (select pg_catalog.string_agg(r.rolname, ',' order by r.rolname) from pg_catalog.pg_roles r where r.oid = any (p.polroles)),
                   pg_catalog.pg_get_expr(p.polqual, p.polrelid), pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid))#digest#)
          from pg_catalog.pg_policy p join pg_catalog.pg_class c on c.oid = p.polrelid
          join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where n.nspname in ('ops', 'registry', 'ops_private')
        union all
        select 'privileges', c.oid::pg_catalog.regclass::text,
               pg_catalog.md5(coalesce(c.relacl::text, '') || coalesce((select pg_catalog.string_agg(a.attname || a.attacl::text, ',' order by a.attnum)
                                                         from pg_catalog.pg_attribute a
                                                        where a.attrelid = c.oid and a.attacl is not null and not a.attisdropped), '')#digest#)
          from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where n.nspname in ('ops', 'registry', 'ops_private') and c.relkind in ('r', 'p', 'v', 'm')
        """;

    /// <summary>
    /// Before the files: bodies are not checked at creation (as pg_dump does), so functions may call each other in any
    /// order; and the set waits at most <see cref="LockTimeout"/> for a table lock, so a long reader cannot make it queue
    /// while it holds the tables it already locked (the migrator tries again). Each function file takes every grant of
    /// its function away before it grants its own, so a grant a file no longer makes is gone.
    /// </summary>
    const string Prelude = """

        set local check_function_bodies = off;
        set local lock_timeout = '5s';
        """;

    public static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(5);

    static readonly string StateDdl = $"""
        create table if not exists {StateTable} (
            kind    text not null,
            name    text not null,
            digest  text not null,
            primary key (kind, name)
        );
        alter table {StateTable} enable row level security;
        revoke all on {StateTable} from public;
        """;

    /// <summary>The state recorded after the last application: the files' checksums and the catalog's digests.</summary>
    static async Task<Dictionary<(string Kind, string Name), string>> RecordedAsync(NpgsqlConnection conn) =>
        await conn.ExecuteScalarAsync<bool>($"select to_regclass('{StateTable}') is not null")
            ? (await conn.QueryAsync<(string Kind, string Name, string Digest)>($"select kind, name, digest from {StateTable} where kind <> 'stray'"))
                .ToDictionary(r => (r.Kind, r.Name), r => r.Digest)
            : [];

    /// <summary>Functions no file made when the files were last applied (see <see cref="RecordSql"/>).</summary>
    public static async Task<IReadOnlyList<string>> StraysAsync(NpgsqlConnection conn) =>
        await conn.ExecuteScalarAsync<bool>($"select to_regclass('{StateTable}') is not null")
            ? [.. await conn.QueryAsync<string>($"select name from {StateTable} where kind = 'stray' order by name")]
            : [];

    static async Task<Dictionary<(string Kind, string Name), string>> CurrentAsync(NpgsqlConnection conn, IReadOnlyList<Script> scripts, RequestRoles.Names roles)
    {
        var state = (await conn.QueryAsync<(string Kind, string Name, string Digest)>(CatalogSql(roles)))
            .ToDictionary(r => (r.Kind, r.Name), r => r.Digest);
        foreach (var s in scripts) state[("file", s.Name)] = MigrationJournal.Checksum(s.Contents);
        return state;
    }

    /// <summary>What differs between the recorded state and now (files changed, objects changed or gone); empty when current.</summary>
    /// <param name="roles">This database's groups (default: those of the database <paramref name="conn"/> is on).</param>
    public static async Task<IReadOnlyList<string>> DifferencesAsync(NpgsqlConnection conn, IReadOnlyList<Script> scripts, RequestRoles.Names? roles = null)
    {
        var recorded = await RecordedAsync(conn);
        if (recorded.Count == 0) return ["never applied"];
        var current = await CurrentAsync(conn, scripts, roles ?? await RequestRoles.ForConnectionAsync(conn));
        return [.. recorded.Keys.Union(current.Keys)
            .Where(k => !recorded.TryGetValue(k, out var a) || !current.TryGetValue(k, out var b) || a != b)
            .Select(k => k.Kind == "file" ? k.Name : $"{k.Kind} {k.Name}")
            .Order(StringComparer.Ordinal)];
    }

    /// <summary>
    /// Applies every file in one transaction through DbUp (run-always scripts), then records the state. The files write
    /// ops_app / ops_service: <paramref name="roles"/> are the groups they name here.
    /// </summary>
    public static void Apply(string ownerConnectionString, IReadOnlyList<Script> scripts, RequestRoles.Names roles)
    {
        var order = 0;
        var all = new List<SqlScript>
        {
            new("(prelude)", StateDdl + Prelude, RunAlways(order++)),
        };
        all.AddRange(scripts.Select(s => new SqlScript(s.Name, roles.Substitute(s.Contents), RunAlways(order++))));
        all.Add(new SqlScript("(record)", RecordSql(scripts, roles), RunAlways(order)));
        var result = DeployChanges.To
            .PostgresqlDatabase(ownerConnectionString)
            .WithScripts(all)
            .JournalTo(new NullJournal())
            .WithTransaction()
            .WithVariablesDisabled()
            .WithExecutionTimeout(TimeSpan.FromMinutes(10))
            .LogToNowhere()
            .Build()
            .PerformUpgrade();
        if (!result.Successful)
            throw new MigrationFailedException($"SQL file {result.ErrorScript?.Name ?? "?"} failed: {result.Error?.Message}", result.Error);
    }

    static SqlScriptOptions RunAlways(int order) => new() { ScriptType = ScriptType.RunAlways, RunGroupOrder = order };

    static string RecordSql(IReadOnlyList<Script> scripts, RequestRoles.Names roles)
    {
        var sql = new StringBuilder($"delete from {StateTable};\n");
        sql.Append($"insert into {StateTable} (kind, name, digest) select kind, name, digest from (\n{CatalogSql(roles)}\n) catalog;\n");
        // A function this transaction did not (re)create is made by no file: an overload a migration forgot to drop, or
        // one made by hand. Recorded as a stray for `db verify`.
        sql.Append($"""
            insert into {StateTable} (kind, name, digest)
            select 'stray', p.oid::pg_catalog.regprocedure::text, ''
              from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
             where n.nspname in ('ops', 'registry', 'ops_private') and p.prokind in ('f', 'p')
               and p.xmin::text <> (pg_catalog.pg_current_xact_id()::text::bigint % 4294967296)::text;

            """);
        foreach (var s in scripts)
            sql.Append($"insert into {StateTable} (kind, name, digest) values ('file', '{s.Name.Replace("'", "''")}', '{MigrationJournal.Checksum(s.Contents)}');\n");
        return sql.ToString();
    }

    [GeneratedRegex(@"create\s+or\s+replace\s+function\s+([a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*)\s*\(", RegexOptions.IgnoreCase)]
    private static partial Regex FunctionPattern();

    [GeneratedRegex(@"create\s+or\s+replace\s+trigger\s+([a-z_][a-z0-9_]*)\s.*?\son\s+([a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*)\s", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex TriggerPattern();

    [GeneratedRegex(@"create\s+policy\s+([a-z_][a-z0-9_]*)\s+on\s+([a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*)\s", RegexOptions.IgnoreCase)]
    private static partial Regex PolicyPattern();
}
