using Dapper;
using Npgsql;

namespace OdooOps.Database;

/// <summary>
/// `odooops db verify`: the seed's verification SQL (tables, functions, RLS policies) and the checks behind
/// our security model, each a row that passes or says why not.
/// </summary>
internal static class DbVerifier
{
    public sealed record Check(string Name, bool Passed, string Detail);

    public static readonly string[] RequiredFunctions =
    [
        "list_projects", "project_branches", "create_project", "create_branch", "set_branch_stage", "trigger_build",
        "cancel_build", "ingest_metric_batch", "advisory_scan", "list_advisories", "resolve_advisory",
        "current_user_id", "ensure_metric_partitions", "drop_metric_partitions_before",
    ];

    public static async Task<IReadOnlyList<Check>> RunAsync(string ownerConnectionString, CancellationToken ct = default)
    {
        await using var conn = new NpgsqlConnection(ownerConnectionString);
        await conn.OpenAsync(ct);
        var checks = new List<Check>();

        var version = await conn.ExecuteScalarAsync<int>("select current_setting('server_version_num')::int");
        checks.Add(new("PostgreSQL 15 or newer", version >= 150000, $"server_version_num {version}"));

        // The seed's three verification queries, as written there.
        var tables = await conn.ExecuteScalarAsync<long>("select count(*) from information_schema.tables where table_schema = 'ops'");
        checks.Add(new("Tables in ops (seed: 10)", tables >= 10, $"{tables} tables"));
        var routines = await conn.ExecuteScalarAsync<long>("select count(*) from information_schema.routines where routine_schema = 'ops'");
        checks.Add(new("Functions in ops (seed: 12+)", routines >= 12, $"{routines} routines"));
        var policyCounts = (await conn.QueryAsync<(string Table, long Policies)>("""
            select tablename, count(*) as policy_count from pg_policies
            where schemaname = 'ops' group by schemaname, tablename
            """)).ToList();
        checks.Add(new("Tables in ops with policies (seed: 10, 1-3 each)", policyCounts.Count >= 10, $"{policyCounts.Count} tables, {policyCounts.Sum(p => p.Policies)} policies"));

        var noRls = (await conn.QueryAsync<string>("""
            select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname in ('ops', 'registry', 'ops_partitions', 'ops_private') and c.relkind in ('r', 'p') and not c.relrowsecurity
            order by 1
            """)).ToList();
        checks.Add(new("RLS enabled on every table", noRls.Count == 0, noRls.Count == 0 ? "all tables" : "missing on " + string.Join(", ", noRls)));

        var noPolicy = (await conn.QueryAsync<string>("""
            select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname in ('ops', 'registry') and c.relkind in ('r', 'p')
              and not exists (select 1 from pg_policies p where p.schemaname = n.nspname and p.tablename = c.relname)
            order by 1
            """)).ToList();
        checks.Add(new("At least one policy on every table of ops and registry", noPolicy.Count == 0, noPolicy.Count == 0 ? "all tables" : "none on " + string.Join(", ", noPolicy)));

        var unpinned = (await conn.QueryAsync<string>("""
            select n.nspname || '.' || p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
            where n.nspname in ('ops', 'registry') and p.prosecdef
              and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%')
            order by 1
            """)).ToList();
        checks.Add(new("SECURITY DEFINER functions pin search_path", unpinned.Count == 0, unpinned.Count == 0 ? "all pinned" : "unpinned: " + string.Join(", ", unpinned)));

        var publicDefiners = (await conn.QueryAsync<string>("""
            select n.nspname || '.' || p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
            where n.nspname in ('ops', 'registry') and p.prosecdef and has_function_privilege('public', p.oid, 'execute')
            order by 1
            """)).ToList();
        checks.Add(new("SECURITY DEFINER functions not executable by PUBLIC", publicDefiners.Count == 0, publicDefiners.Count == 0 ? "none" : string.Join(", ", publicDefiners)));

        checks.AddRange(await RoleChecksAsync(conn));

        var present = (await conn.QueryAsync<string>("select distinct p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'ops'")).ToHashSet();
        var missing = RequiredFunctions.Where(f => !present.Contains(f)).ToList();
        checks.Add(new("Required RPC functions present", missing.Count == 0, missing.Count == 0 ? $"{RequiredFunctions.Length} functions" : "missing " + string.Join(", ", missing)));

        var status = await new Migrator(ownerConnectionString).GetStatusAsync(ct: ct);
        var notApplied = status.Rows.Where(r => r.State != MigrationState.Applied).Select(r => $"{r.Name} ({r.State.ToString().ToLowerInvariant()})").ToList();
        checks.Add(new("All migrations applied and unchanged", notApplied.Count == 0,
            notApplied.Count == 0 ? $"{status.AppliedCount}/{status.Rows.Count}" : string.Join(", ", notApplied)));

        checks.AddRange(await SqlObjectChecksAsync(conn));

        var partition = await conn.ExecuteScalarAsync<bool>(
            "select to_regclass('ops_partitions.metric_samples_p' || to_char(now() at time zone 'utc', 'YYYYMMDD')) is not null");
        checks.Add(new("Metric samples partition for today exists", partition, partition ? "present" : "missing: run odooops db migrate or serve"));
        return checks;
    }

    /// <summary>This database's group roles: its own, bound by RLS, holding this database's logins only, the only ones that connect.</summary>
    static async Task<IReadOnlyList<Check>> RoleChecksAsync(NpgsqlConnection conn)
    {
        var database = (await conn.ExecuteScalarAsync<string>("select current_database()"))!;
        var names = RequestRoles.For(database);
        string[] groups = [names.App, names.Service];
        var roles = (await conn.QueryAsync<(string Name, bool Login, bool Super, bool Bypass)>(
            "select rolname, rolcanlogin, rolsuper, rolbypassrls from pg_roles where rolname = any (@groups)", new { groups })).ToList();
        var recorded = await conn.ExecuteScalarAsync<bool>($"select to_regclass('{RequestRoles.RecordTable}') is not null")
            ? (await conn.QueryAsync<string>($"select role_name from {RequestRoles.RecordTable} order by kind")).ToList()
            : [];
        var rolesOk = roles.Count == 2 && roles.All(r => !r.Login && !r.Super && !r.Bypass) && recorded.SequenceEqual(groups);
        var members = (await conn.QueryAsync<string>("""
            select m.rolname from pg_auth_members a join pg_roles g on g.oid = a.roleid join pg_roles m on m.oid = a.member
             where g.rolname = any (@groups) and m.rolname <> all (@logins) order by 1
            """, new { groups, logins = LoginRoles.NamesFor(database).ToArray() })).ToList();
        var connect = (await conn.QueryAsync<string>("""
            select case when a.grantee = 0 then 'PUBLIC' else pg_get_userbyid(a.grantee) end
              from pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
             where d.datname = current_database() and a.privilege_type = 'CONNECT' and a.grantee <> d.datdba
             order by 1
            """)).ToList();
        return
        [
            new($"Request roles {names} are this database's own, bound by RLS", rolesOk,
                rolesOk ? "NOLOGIN, NOBYPASSRLS" : $"found {string.Join(", ", roles.Select(r => r.Name))}; recorded {string.Join(", ", recorded)} (run odooops db migrate)"),
            new("Only this database's login roles are members of them", members.Count == 0, members.Count == 0 ? "none other" : string.Join(", ", members)),
            // Roles an operator granted CONNECT to themselves (monitoring, backups) are named, not refused.
            new("PUBLIC may not connect; this database's roles may", !connect.Contains("PUBLIC") && groups.All(connect.Contains),
                $"CONNECT: owner, {string.Join(", ", connect)}" + (connect.Contains("PUBLIC") ? $" (as its owner: revoke connect on database \"{database}\" from public)" : "")),
        ];
    }

    /// <summary>One home per SQL object: each function, trigger and policy is defined by one canonical file, and what runs is what the files say.</summary>
    static async Task<IReadOnlyList<Check>> SqlObjectChecksAsync(NpgsqlConnection conn)
    {
        var scripts = SqlObjects.EmbeddedScripts();
        var functions = (await conn.QueryAsync<string>("""
            select n.nspname || '.' || p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
            where n.nspname in ('ops', 'registry', 'ops_private')
            """)).ToHashSet();
        var homes = SqlObjects.DefinedFunctions(scripts).GroupBy(d => d.Function).ToDictionary(g => g.Key, g => g.Select(d => d.File).ToList());
        var problems = functions.Where(f => !homes.ContainsKey(f)).Select(f => $"{f} has no file")
            .Concat((await SqlObjects.StraysAsync(conn)).Select(f => $"{f} was made by no file (an overload to drop?)"))
            .Concat(homes.Where(h => h.Value.Count > 1).Select(h => $"{h.Key} is in {string.Join(" and ", h.Value)}"))
            .Concat(homes.Keys.Where(f => !functions.Contains(f)).Select(f => $"{f} ({homes[f][0]}) is not in the database"))
            .Order(StringComparer.Ordinal).ToList();
        var checks = new List<Check>
        {
            new("Every function has exactly one canonical file", problems.Count == 0,
                problems.Count == 0 ? $"{functions.Count} functions in {scripts.Count} files" : string.Join("; ", problems)),
        };

        var objects = (await conn.QueryAsync<string>("""
            select t.tgrelid::regclass::text || '.' || t.tgname from pg_trigger t join pg_class c on c.oid = t.tgrelid
              join pg_namespace n on n.oid = c.relnamespace
             where not t.tgisinternal and n.nspname in ('ops', 'registry', 'ops_private')
            union all
            select p.polrelid::regclass::text || '.' || p.polname from pg_policy p join pg_class c on c.oid = p.polrelid
              join pg_namespace n on n.oid = c.relnamespace
             where n.nspname in ('ops', 'registry', 'ops_private')
            """)).ToHashSet();
        var defined = SqlObjects.DefinedTriggersAndPolicies(scripts).GroupBy(d => d.Object).ToDictionary(g => g.Key, g => g.Count());
        var unhomed = objects.Where(o => !defined.ContainsKey(o)).Select(o => $"{o} has no file")
            .Concat(defined.Where(d => d.Value > 1).Select(d => $"{d.Key} is defined twice"))
            .Order(StringComparer.Ordinal).ToList();
        checks.Add(new("Every trigger and policy has exactly one canonical file", unhomed.Count == 0,
            unhomed.Count == 0 ? $"{objects.Count} triggers and policies" : string.Join("; ", unhomed)));

        var differences = await SqlObjects.DifferencesAsync(conn, scripts);
        checks.Add(new("SQL objects are what their files say", differences.Count == 0,
            differences.Count == 0 ? "as last applied" : $"changed since applied: {string.Join(", ", differences)} (run odooops db migrate)"));
        return checks;
    }
}
