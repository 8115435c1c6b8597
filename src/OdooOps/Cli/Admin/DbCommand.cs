using System.CommandLine;
using OdooOps.Database;

namespace OdooOps.Cli.Admin;

/// <summary>`odooops db migrate|status|verify|backup|restore`.</summary>
internal static class DbCommand
{
    public static Command Create()
    {
        var db = new Command("db", "Manage the OdooOps database: migrations, verification, backups.");
        db.Add(Migrate());
        db.Add(Status());
        db.Add(Verify());
        db.Add(Backup());
        db.Add(Restore());
        return db;
    }

    /// <summary>Adds --database-url and --data-dir and runs the action against that database as its owner (admin verbs share it).</summary>
    internal static Command WithDatabase(Command command, Func<ParseResult, DatabaseTarget, CancellationToken, Task<int>> action)
    {
        var url = CliCommon.DatabaseUrlOption();
        var dataDir = CliCommon.DataDirOption();
        command.Add(url);
        command.Add(dataDir);
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            await using var target = await DatabaseTarget.OpenAsync(CliCommon.Configuration(parse, url, dataDir), exclusive: false, ct);
            return await action(parse, target, ct);
        }));
        return command;
    }

    static Command Migrate()
    {
        var noBackup = new Option<bool>("--no-backup") { Description = "Do not pg_dump a database that holds data before applying migrations." };
        var command = new Command("migrate", "Apply pending migrations (backing up a database that holds data first).") { noBackup };
        return WithDatabase(command, async (parse, target, ct) =>
        {
            var (applied, objects) = await MigrateAsync(target, parse.GetValue(noBackup), Console.Out, ct);
            Console.WriteLine(applied.Count > 0 ? $"Applied {applied.Count} migration(s)."
                : objects is { Files: > 0 } ? "Migrations were up to date; the SQL files were applied."
                : "Database is up to date.");
            return 0;
        });
    }

    /// <summary>Migrates; a database holding data gets a pg_dump first, whose path is printed.</summary>
    public static async Task<(IReadOnlyList<string> Applied, SqlObjects.Outcome? Objects)> MigrateAsync(DatabaseTarget target, bool noBackup, TextWriter output, CancellationToken ct)
    {
        var migrator = new Migrator(target.Owner.ConnectionString);
        var result = await migrator.MigrateAsync(
            beforeApplying: async (conn, status) =>
            {
                if (noBackup || !await DbBackup.HoldsDataAsync(conn)) return;
                var file = await new DbBackup(target.Owner).BackupAsync(DbBackup.DefaultPath(target.DataDir), ct);
                output.WriteLine($"Backup written before migrating: {file}");
            },
            log: null,
            ct: ct);
        foreach (var warning in result.Warnings) output.WriteLine($"Warning: {warning}");
        foreach (var name in result.Applied) output.WriteLine($"  applied {name}");
        if (result.SqlObjects is { Files: > 0 } objects)
            output.WriteLine($"  applied {objects.Files} SQL files (functions, triggers, privileges and policies): {objects.Reason}");
        else if (result.SqlObjects is { } skipped)
            output.WriteLine($"  SQL files {skipped.Reason}");
        return (result.Applied, result.SqlObjects);
    }

    static Command Status() => WithDatabase(new Command("status", "List applied and pending migrations."), async (_, target, ct) =>
    {
        var status = await new Migrator(target.Owner.ConnectionString).GetStatusAsync(ct: ct);
        Console.WriteLine($"Database: {target.Describe()}");
        foreach (var row in status.Rows)
            Console.WriteLine($"  {row.State.ToString().ToLowerInvariant(),-8} {row.Name}{(row.AppliedAt is { } at ? $"  ({at:yyyy-MM-dd HH:mm:ss}Z)" : "")}");
        Console.WriteLine($"{status.AppliedCount}/{status.Rows.Count} applied");
        await using (var conn = new Npgsql.NpgsqlConnection(target.Owner.ConnectionString))
        {
            await conn.OpenAsync(ct);
            var files = SqlObjects.EmbeddedScripts();
            var differences = await SqlObjects.DifferencesAsync(conn, files);
            Console.WriteLine(differences.Count == 0
                ? $"SQL objects: as their {files.Count} files say"
                : $"SQL objects: differ from their files ({string.Join(", ", differences.Take(5))}{(differences.Count > 5 ? ", …" : "")}); odooops db migrate applies them");
        }
        return status.Rows.Any(r => r.State is MigrationState.Changed or MigrationState.Unknown) ? 1 : 0;
    });

    static Command Verify() => WithDatabase(new Command("verify", "Check the schema, RLS and migrations; exit 0 only if all pass."), async (_, target, ct) =>
    {
        var checks = await DbVerifier.RunAsync(target.Owner.ConnectionString, ct);
        var width = checks.Max(c => c.Name.Length);
        foreach (var c in checks)
            Console.WriteLine($"{(c.Passed ? "✓" : "✗")} {c.Name.PadRight(width)}  {c.Detail}");
        var failed = checks.Count(c => !c.Passed);
        Console.WriteLine(failed == 0 ? $"All {checks.Count} checks passed." : $"{failed} of {checks.Count} checks failed.");
        return failed == 0 ? 0 : 1;
    });

    static Command Backup()
    {
        var file = new Argument<string?>("FILE") { Description = "Where to write the dump (default: <data-dir>/backups/odooops-<time>.dump).", Arity = ArgumentArity.ZeroOrOne };
        return WithDatabase(new Command("backup", "pg_dump OdooOps' schemas (custom format).") { file }, async (parse, target, ct) =>
        {
            var path = await new DbBackup(target.Owner).BackupAsync(parse.GetValue(file) ?? DbBackup.DefaultPath(target.DataDir), ct);
            Console.WriteLine($"Backup written: {path}");
            return 0;
        });
    }

    static Command Restore()
    {
        var file = new Argument<string>("FILE") { Description = "A dump written by `odooops db backup` or by `db migrate`." };
        return WithDatabase(new Command("restore", "Replace OdooOps' schemas with a backup (one transaction).") { file }, async (parse, target, ct) =>
        {
            var path = parse.GetValue(file)!;
            await new DbBackup(target.Owner).RestoreAsync(path, ct);
            Console.WriteLine($"Restored {Path.GetFullPath(path)}");
            return 0;
        });
    }
}
