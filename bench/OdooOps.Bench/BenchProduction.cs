using System.Diagnostics;
using System.Security.Cryptography;
using Npgsql;
using OdooOps.Database;
using OdooOps.Runners.Agent.Backups;

namespace OdooOps.Bench;

/// <summary>
/// A production Odoo for the backup and staging benches: the stand-in's database "bench" (initialised with base, as the
/// project's production role), plus a generated table of about <c>dbMb</c> MB (random hex) and a filestore of
/// <c>files</c> files of 100 KiB random bytes (incompressible, as attachments mostly are).
/// </summary>
sealed record BenchProduction(StandInUpstream.World World, string Filestore, long DatabaseBytes, long FilestoreBytes, int Files)
{
    public const string Database = "bench";

    public static async Task<BenchProduction> CreateAsync(LocalPostgres pg, string dir, int dbMb, int files, string? odooVersion = null)
    {
        var world = await StandInUpstream.PrepareDatabaseAsync(pg, dir, odooVersion);
        await using (var conn = new NpgsqlConnection(world.Server.ProjectConnection(world.ProjectId, true, Database).ConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"""
                create table bench_rows (id bigint primary key, payload text);
                insert into bench_rows select g, (select string_agg(md5(random()::text || g || x), '') from generate_series(1, 44) x)
                  from generate_series(1, {dbMb * 730}) g;
                analyze bench_rows;
                """, conn) { CommandTimeout = 0 };
            await cmd.ExecuteNonQueryAsync();
        }
        var filestore = OdooData.FilestoreOf(world.DataDir, Database);
        for (var i = 0; i < files; i++)
        {
            var sub = Directory.CreateDirectory(Path.Combine(filestore, $"{i % 256:x2}")).FullName;
            await File.WriteAllBytesAsync(Path.Combine(sub, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20))), RandomNumberGenerator.GetBytes(100 * 1024));
        }
        long dbBytes;
        await using (var conn = new NpgsqlConnection(world.Server.ProjectConnection(world.ProjectId, true, Database).ConnectionString))
        {
            await conn.OpenAsync();
            dbBytes = (long)(await new NpgsqlCommand($"select pg_database_size('{Database}')", conn).ExecuteScalarAsync())!;
        }
        var stored = Directory.GetFiles(filestore, "*", SearchOption.AllDirectories);
        return new BenchProduction(world, filestore, dbBytes, stored.Sum(f => new FileInfo(f).Length), stored.Length);
    }

    /// <summary>Its data as the runner's backups read it.</summary>
    public OdooData Data => new(World.ProjectId, true, Database, Filestore);

    public override string ToString() => $"database {DatabaseBytes >> 20} MiB (on disk), filestore {Files} files, {FilestoreBytes >> 20} MiB";

    /// <summary>A program run to its end (stdout and stderr read and dropped); throws with stderr when it fails.</summary>
    public static async Task RunAsync(string program, IEnumerable<string> arguments, IEnumerable<KeyValuePair<string, string>>? env)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        if (env is not null) foreach (var (k, v) in env) info.Environment[k] = v;
        using var p = Process.Start(info)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        await output;
        if (p.ExitCode != 0) throw new InvalidOperationException($"{program} exited {p.ExitCode}: {await error}");
    }
}
