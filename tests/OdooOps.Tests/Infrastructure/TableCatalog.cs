using Dapper;
using Npgsql;

namespace OdooOps.Tests.Infrastructure;

/// <summary>
/// A table of schema ops or registry and what the connected role may do with it, read from the catalog so that a
/// table added by a later migration is covered by the generic tests without editing them.
/// </summary>
public sealed record TableAccess(
    string Schema, string Name, string[] SelectColumns, string[] UpdateColumns, string[] AssignableColumns, bool CanInsert, bool CanDelete)
{
    public string Qualified => $"{Schema}.{Name}";
    string Sql => $"{Quote(Schema)}.{Quote(Name)}";

    /// <summary>Every row, as to_jsonb text of the columns the role may select.</summary>
    public string SelectRowsSql => $"select to_jsonb(x)::text from (select {string.Join(", ", SelectColumns)} from {Sql}) x";

    /// <summary>An update that changes nothing (column = itself) and returns the affected rows as json.</summary>
    public string NoOpUpdateSql
    {
        get
        {
            // prefer a column the role may both update and read (set c = c reads c); with no update grant, any
            // assignable column (not GENERATED ALWAYS), so the statement fails on privileges, not on syntax
            var column = UpdateColumns.Intersect(SelectColumns).FirstOrDefault()
                         ?? UpdateColumns.FirstOrDefault()
                         ?? AssignableColumns.Intersect(SelectColumns).FirstOrDefault()
                         ?? AssignableColumns.First();
            return $"with u as (update {Sql} set {column} = {column} returning {Returning}) select to_jsonb(u)::text from u";
        }
    }

    public string DeleteSql => $"with d as (delete from {Sql} returning {Returning}) select to_jsonb(d)::text from d";

    string Returning => SelectColumns.Length > 0 ? string.Join(", ", SelectColumns) : "1 as one";

    static string Quote(string identifier) => identifier.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_')
        ? identifier
        : $"\"{identifier.Replace("\"", "\"\"")}\"";
}

public static class TableCatalog
{
    /// <summary>All plain and partitioned tables of ops and registry, with the current role's privileges.</summary>
    public static async Task<IReadOnlyList<TableAccess>> LoadAsync(NpgsqlConnection conn, NpgsqlTransaction? tx = null)
    {
        var rows = await conn.QueryAsync<(string, string, string[], string[], string[], bool, bool)>("""
            select n.nspname, c.relname,
                   array(select quote_ident(a.attname) from pg_attribute a
                          where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                            and has_column_privilege(c.oid, a.attnum, 'SELECT') order by a.attnum),
                   array(select quote_ident(a.attname) from pg_attribute a
                          where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                            and has_column_privilege(c.oid, a.attnum, 'UPDATE') order by a.attnum),
                   array(select quote_ident(a.attname) from pg_attribute a
                          where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                            and a.attidentity <> 'a' and a.attgenerated = '' order by a.attnum),
                   has_any_column_privilege(c.oid, 'INSERT'),
                   has_table_privilege(c.oid, 'DELETE')
              from pg_class c
              join pg_namespace n on n.oid = c.relnamespace
             where n.nspname in ('ops', 'registry')
               and c.relkind in ('r', 'p')
             order by 1, 2
            """, transaction: tx);
        return [.. rows.Select(r => new TableAccess(r.Item1, r.Item2, r.Item3, r.Item4, r.Item5, r.Item6, r.Item7))];
    }

    /// <summary>
    /// The rows the session sees in <paramref name="table"/>; a table it may not select at all (permission denied)
    /// sees nothing.
    /// </summary>
    public static async Task<List<string>> VisibleRowsAsync(AppSession session, TableAccess table)
    {
        if (table.SelectColumns.Length == 0)
        {
            var denied = await session.TryQueryAsync($"select 1 from {table.Qualified} limit 1");
            Assert.Equal("42501", denied.SqlState);
            return [];
        }
        return [.. await session.QueryAsync<string>(table.SelectRowsSql)];
    }
}

/// <summary>Every row of every ops/registry table as the owner sees it (to_jsonb text, sorted), for before/after comparisons.</summary>
public static class DbSnapshot
{
    public static async Task<SortedDictionary<string, List<string>>> TakeAsync(NpgsqlConnection owner)
    {
        var tables = await TableCatalog.LoadAsync(owner);
        var sql = string.Join("\nunion all\n",
            tables.Select(t => $"select '{t.Qualified}' as tbl, to_jsonb(r)::text as row from {t.Qualified} r"));
        var result = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var t in tables) result[t.Qualified] = [];
        foreach (var (tbl, row) in await owner.QueryAsync<(string, string)>(sql)) result[tbl].Add(row);
        foreach (var list in result.Values) list.Sort(StringComparer.Ordinal);
        return result;
    }

    /// <summary>Only the rows that carry one of the tenant's ids.</summary>
    public static SortedDictionary<string, List<string>> Of(this SortedDictionary<string, List<string>> snapshot, Tenant tenant) =>
        new(snapshot.ToDictionary(kv => kv.Key, kv => kv.Value.Where(tenant.Owns).ToList()), StringComparer.Ordinal);

    public static int RowCount(this SortedDictionary<string, List<string>> snapshot) => snapshot.Values.Sum(v => v.Count);
}
