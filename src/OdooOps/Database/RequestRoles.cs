using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;

namespace OdooOps.Database;

/// <summary>
/// This database's two NOLOGIN group roles: the app group (user requests, bound by RLS) and the service group (internal
/// SECURITY DEFINER functions). Roles are cluster-wide, so each OdooOps database has groups of its own, named after it
/// (<see cref="For"/>): a login role of one database is a member of nothing another database granted. Migrations and
/// canonical SQL files keep writing <c>ops_app</c> and <c>ops_service</c>; <see cref="Names.Substitute"/> makes them
/// name this database's groups when they are applied. Only the groups (and the database's owner) may connect.
/// </summary>
public static partial class RequestRoles
{
    /// <summary>What the SQL files write, and the cluster-wide group roles of OdooOps before groups were per database.</summary>
    public static readonly Names Logical = new("ops_app", "ops_service");

    public sealed record Names(string App, string Service)
    {
        /// <summary>SQL that names <c>ops_app</c> / <c>ops_service</c> (whole words), naming these roles instead.</summary>
        public string Substitute(string sql) =>
            this == Logical ? sql : LogicalApp().Replace(LogicalService().Replace(sql, Service), App);

        public override string ToString() => $"{App}, {Service}";
    }

    /// <summary>
    /// The groups of a database: <c>&lt;database&gt;_ops_app</c> / <c>&lt;database&gt;_ops_service</c> when the name is a plain
    /// lower-case identifier short enough; otherwise the name made plain (lower case, runs of other characters as one
    /// <c>_</c>, at most 40 characters) and 8 hex digits of its SHA-256, so that <c>Prod</c>, <c>prod</c> and <c>prod-</c>
    /// differ. Always a plain identifier of at most 63 bytes, so it needs no quoting in SQL.
    /// </summary>
    public static Names For(string database)
    {
        var stem = PlainIdentifier().IsMatch(database) && database.Length <= 63 - "_ops_service".Length
            ? database
            : Hashed(database);
        return new($"{stem}_ops_app", $"{stem}_ops_service");
    }

    static string Hashed(string database)
    {
        var plain = NotPlain().Replace(database.ToLowerInvariant(), "_").Trim('_');
        if (plain.Length > 40) plain = plain[..40].TrimEnd('_');
        if (plain.Length == 0 || char.IsAsciiDigit(plain[0])) plain = "db_" + plain;
        return $"{plain}_{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(database)))[..8]}";
    }

    /// <summary>The groups of the database <paramref name="conn"/> is connected to.</summary>
    public static async Task<Names> ForConnectionAsync(NpgsqlConnection conn) =>
        For((await conn.ExecuteScalarAsync<string>("select current_database()"))!);

    public const string RecordTable = "ops_private.request_roles";

    /// <summary>
    /// As the owner, under the migration lock: the groups exist, every privilege this database gave to former groups (the
    /// cluster-wide ops_app / ops_service of older versions, or the groups of a database this one was copied, restored or
    /// renamed from) is theirs, this database's login roles are members of them alone, and only they may connect. Former
    /// groups this database was the last to use are dropped. Returns warnings worth a line (nothing when all is well).
    /// </summary>
    public static async Task<IReadOnlyList<string>> EnsureAsync(NpgsqlConnection conn, Names names)
    {
        var warnings = new List<string>();
        await EnsureGroupAsync(conn, names.App);
        await EnsureGroupAsync(conn, names.Service);
        await RestrictConnectAsync(conn, names, warnings);
        if (!await conn.ExecuteScalarAsync<bool>($"select to_regclass('{RecordTable}') is not null"))
            return warnings; // migrations not applied yet: the migrator calls again after them

        var recorded = (await conn.QueryAsync<(string Kind, string Role)>($"select kind, role_name from {RecordTable}"))
            .ToDictionary(r => r.Kind, r => r.Role);
        foreach (var (kind, current) in new[] { ("app", names.App), ("service", names.Service) })
        {
            var former = new[] { kind == "app" ? Logical.App : Logical.Service, recorded.GetValueOrDefault(kind) }
                .OfType<string>().Where(f => f != current).Distinct();
            foreach (var from in former)
                if (await MoveAsync(conn, from, current, LoginRoles.NamesFor(await DatabaseAsync(conn))))
                    await DropIfUnusedAsync(conn, from, warnings);
            await conn.ExecuteAsync($"""
                insert into {RecordTable} (kind, role_name) values (@kind, @current)
                on conflict (kind) do update set role_name = excluded.role_name
                """, new { kind, current });
        }
        return warnings;
    }

    static async Task<string> DatabaseAsync(NpgsqlConnection conn) => (await conn.ExecuteScalarAsync<string>("select current_database()"))!;

    /// <summary>A NOLOGIN, NOBYPASSRLS role; a role of that name that could log in or bypass RLS is not ours and is refused.</summary>
    static async Task EnsureGroupAsync(NpgsqlConnection conn, string name)
    {
        var existing = await conn.QuerySingleOrDefaultAsync<(bool Login, bool Super, bool Bypass)?>(
            "select rolcanlogin, rolsuper, rolbypassrls from pg_roles where rolname = @name", new { name });
        if (existing is { } r && (r.Login || r.Super || r.Bypass))
            throw new InvalidOperationException(
                $"The role {name} exists and can log in or bypass row level security: it is not an OdooOps group role. Rename or drop it, or use another database name.");
        if (existing is null)
        {
            try
            {
                // Plain identifier (see For): safe to place in the statement.
                await conn.ExecuteAsync($"create role {name} nologin nobypassrls");
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DuplicateObject or PostgresErrorCodes.UniqueViolation)
            {
                // another database's migrator made it at the same moment: same name, same database
            }
        }
    }

    /// <summary>PUBLIC may not connect; the groups may. Needs the database's owner: otherwise a warning (db verify says so too).</summary>
    static async Task RestrictConnectAsync(NpgsqlConnection conn, Names names, List<string> warnings)
    {
        var (database, mayGrant) = await conn.QuerySingleAsync<(string, bool)>(
            "select d.datname, pg_has_role(current_user, d.datdba, 'usage') from pg_database d where d.datname = current_database()");
        if (!mayGrant)
        {
            warnings.Add($"Only the owner of database {database} can keep other databases' roles out of it: run `revoke connect on database \"{database}\" from public; grant connect on database \"{database}\" to {names.App}, {names.Service};` as its owner.");
            return;
        }
        var quoted = await conn.ExecuteScalarAsync<string>("select quote_ident(current_database())");
        await conn.ExecuteAsync($"revoke connect on database {quoted} from public; grant connect on database {quoted} to {names.App}, {names.Service}");
    }

    /// <summary>
    /// Gives <paramref name="to"/> every privilege <paramref name="from"/> holds in this database (the database, schemas,
    /// tables and columns, sequences, routines) and every policy naming it, takes them from <paramref name="from"/>, and
    /// moves this database's login roles from it. True when anything was moved.
    /// </summary>
    static async Task<bool> MoveAsync(NpgsqlConnection conn, string from, string to, IReadOnlyList<string> logins)
    {
        if (!await conn.ExecuteScalarAsync<bool>("select exists (select 1 from pg_roles where rolname = @from)", new { from })) return false;
        var members = (await conn.QueryAsync<string>("""
            select m.rolname from pg_auth_members a join pg_roles g on g.oid = a.roleid join pg_roles m on m.oid = a.member
             where g.rolname = @from and m.rolname = any (@logins)
            """, new { from, logins = logins.ToArray() })).ToList();
        var referenced = await conn.ExecuteScalarAsync<bool>("""
            select exists (select 1 from pg_shdepend d
                            where d.dbid = (select oid from pg_database where datname = current_database())
                              and d.refclassid = 'pg_authid'::regclass
                              and d.refobjid = (select oid from pg_roles where rolname = @from))
            """, new { from });
        if (!referenced && members.Count == 0) return false;

        await using var tx = await conn.BeginTransactionAsync();
        await conn.ExecuteAsync("select set_config('odooops.move_from', @from, true), set_config('odooops.move_to', @to, true)", new { from, to }, tx);
        await conn.ExecuteAsync(MoveSql, transaction: tx);
        foreach (var login in members)
            await conn.ExecuteAsync($"grant {to} to {login}; revoke {from} from {login}", transaction: tx);
        await tx.CommitAsync();
        return true;
    }

    /// <summary>One round trip: every object of this database whose ACL or policy names the former group.</summary>
    const string MoveSql = """
        do $move$
        declare
            v_from_name text := current_setting('odooops.move_from');
            v_from      oid := (select oid from pg_roles where rolname = v_from_name);
            v_to        text := current_setting('odooops.move_to');
            r           record;
        begin
            for r in
                select pg_catalog.format('table %s', c.oid::regclass) as obj,
                       pg_catalog.format('%s (%s)', a.privilege_type, string_agg(quote_ident(att.attname), ', ')) as privs
                  from pg_attribute att join pg_class c on c.oid = att.attrelid, aclexplode(att.attacl) a
                 where a.grantee = v_from and not att.attisdropped
                 group by c.oid, a.privilege_type
            loop
                execute pg_catalog.format('grant %s on %s to %I', r.privs, r.obj, v_to);
                execute pg_catalog.format('revoke %s on %s from %I', r.privs, r.obj, v_from_name);
            end loop;
            for r in
                select pg_catalog.format('database %I', d.datname) as obj, string_agg(a.privilege_type, ', ') as privs
                  from pg_database d, aclexplode(d.datacl) a where d.datname = current_database() and a.grantee = v_from group by d.datname
                union all
                select pg_catalog.format('schema %I', n.nspname), string_agg(a.privilege_type, ', ')
                  from pg_namespace n, aclexplode(n.nspacl) a where a.grantee = v_from group by n.nspname
                union all
                select pg_catalog.format(case c.relkind when 'S' then 'sequence %s' else 'table %s' end, c.oid::regclass), string_agg(a.privilege_type, ', ')
                  from pg_class c, aclexplode(c.relacl) a where a.grantee = v_from group by c.oid, c.relkind
                union all
                select pg_catalog.format('routine %s', p.oid::regprocedure), string_agg(a.privilege_type, ', ')
                  from pg_proc p, aclexplode(p.proacl) a where a.grantee = v_from group by p.oid
            loop
                execute pg_catalog.format('grant %s on %s to %I', r.privs, r.obj, v_to);
                execute pg_catalog.format('revoke %s on %s from %I', r.privs, r.obj, v_from_name);
            end loop;
            for r in
                select p.polname, p.polrelid::regclass as tbl,
                       (select string_agg(case when x = 0 then 'public' when x = v_from then quote_ident(v_to) else quote_ident(pg_get_userbyid(x)) end, ', ')
                          from unnest(p.polroles) x) as roles
                  from pg_policy p where v_from = any (p.polroles)
            loop
                execute pg_catalog.format('alter policy %I on %s to %s', r.polname, r.tbl, r.roles);
            end loop;
        end
        $move$
        """;

    /// <summary>
    /// A former group this database no longer uses is dropped, unless another database still grants it something
    /// (PostgreSQL refuses: it tracks privileges and policies of every database) or we may not drop it.
    /// </summary>
    static async Task DropIfUnusedAsync(NpgsqlConnection conn, string role, List<string> warnings)
    {
        try
        {
            await conn.ExecuteAsync($"drop role if exists {Quote(role)}");
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DependentObjectsStillExist)
        {
            // still used by another database of this cluster: left alone
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InsufficientPrivilege)
        {
            warnings.Add($"The role {role} is no longer used by this database, but this owner may not drop it ({e.MessageText}).");
        }
    }

    static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";

    [GeneratedRegex(@"^[a-z_][a-z0-9_]*$")]
    private static partial Regex PlainIdentifier();

    [GeneratedRegex(@"[^a-z0-9]+")]
    private static partial Regex NotPlain();

    [GeneratedRegex(@"\bops_app\b")]
    private static partial Regex LogicalApp();

    [GeneratedRegex(@"\bops_service\b")]
    private static partial Regex LogicalService();
}
