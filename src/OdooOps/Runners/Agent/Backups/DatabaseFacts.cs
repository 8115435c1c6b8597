using System.Globalization;
using Npgsql;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Runners.Agent.Backups;

/// <summary>
/// What a backup records of an Odoo database and a verification compares after a restore: its tables (ordinary and
/// partitioned, outside the system schemas) and its modules as ir_module_module has them.
/// </summary>
internal sealed record DatabaseFacts(int TableCount, IReadOnlyList<BackupModule> Modules, string PgVersion)
{
    public static async Task<DatabaseFacts> ReadAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var tables = new NpgsqlCommand("""
            select count(*)::int from pg_class c join pg_namespace n on n.oid = c.relnamespace
             where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema')
               and n.nspname not like 'pg\_toast%' and n.nspname not like 'pg\_temp\_%'
            """, conn);
        var count = (int)(await tables.ExecuteScalarAsync(ct))!;
        var modules = new List<BackupModule>();
        await using (var exists = new NpgsqlCommand("select to_regclass('public.ir_module_module') is not null", conn))
            if ((bool)(await exists.ExecuteScalarAsync(ct))!)
            {
                await using var select = new NpgsqlCommand("select name, state, latest_version from public.ir_module_module order by name", conn);
                await using var reader = await select.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                    modules.Add(new BackupModule(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
            }
        var number = conn.PostgreSqlVersion;
        return new DatabaseFacts(count, modules, $"{number.Major.ToString(CultureInfo.InvariantCulture)}.{Math.Max(number.Minor, 0).ToString(CultureInfo.InvariantCulture)}");
    }

    /// <summary>Odoo's manifest "modules": the installed ones and their versions.</summary>
    public IReadOnlyDictionary<string, string?> Installed() =>
        Modules.Where(m => m.State == "installed").ToDictionary(m => m.Name, m => m.Version, StringComparer.Ordinal);
}
