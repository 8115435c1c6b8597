using System.Diagnostics;
using OdooOps.Database;
using OdooOps.Tests.Cli;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Database;

/// <summary>
/// A dump of OdooOps' database holds every password hash, token hash and key: it is 0600 from its first byte. pg_dump
/// creates a missing --file with the umask's mode (0666 under umask 000) and writes into it at once, so the file must
/// already exist, ours and 0600, when pg_dump starts. Proven with the real `odooops db backup` under umask 000 and a
/// pg_dump on PATH that notes the file's mode as it starts, then runs the real one.
/// </summary>
public sealed class DbBackupTests(PostgresCluster cluster) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("odooops-backup-").FullName;

    [Fact]
    public async Task A_backup_is_0600_before_pg_dump_writes_a_byte_whatever_the_umask()
    {
        var cs = await cluster.CreateDatabaseAsync("backupmode");
        var shims = ShimBinaries();
        var dataDir = Path.Combine(_dir, "data");

        foreach (var file in new[] { Path.Combine(_dir, "named.dump"), null })
        {
            var record = Path.Combine(_dir, $"mode-{Guid.NewGuid():N}");
            var result = await RunUnderUmask000Async(
                ["db", "backup", .. file is null ? Array.Empty<string>() : [file], "--database-url", CliSandbox.Url(cs), "--data-dir", dataDir],
                new() { ["PATH"] = $"{shims}:{Environment.GetEnvironmentVariable("PATH")}", ["ODOOOPS_TEST_MODE_RECORD"] = record });
            Assert.True(result.ExitCode == 0, result.Error);
            var written = file ?? result.Output.Split('\n').Single(l => l.StartsWith("Backup written: ", StringComparison.Ordinal))["Backup written: ".Length..].Trim();

            Assert.Equal("600", File.ReadAllText(record).Trim()); // pg_dump found it there, 0600
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(written));
            Assert.True(new FileInfo(written).Length > 0);
        }
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(dataDir, "backups")));
    }

    /// <summary>A folder of scripts running the machine's PostgreSQL programs; its pg_dump first notes the mode of its --file.</summary>
    string ShimBinaries()
    {
        var real = PostgresBinaries.Locate().BinDir;
        var shims = Directory.CreateDirectory(Path.Combine(_dir, "bin")).FullName;
        foreach (var tool in new[] { "initdb", "pg_ctl", "postgres", "pg_restore", "psql" })
            Script(Path.Combine(shims, tool), $"exec '{real}/{tool}' \"$@\"");
        Script(Path.Combine(shims, "pg_dump"), $$"""
            target=""; previous=""
            for argument in "$@"; do
                if [ "$previous" = "--file" ]; then target="$argument"; fi
                previous="$argument"
            done
            if [ -e "$target" ]; then stat -c %a "$target" > "$ODOOOPS_TEST_MODE_RECORD"; else echo missing > "$ODOOOPS_TEST_MODE_RECORD"; fi
            exec '{{real}}/pg_dump' "$@"
            """);
        return shims;
    }

    static void Script(string path, string body)
    {
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    static async Task<CliRunner.Result> RunUnderUmask000Async(IReadOnlyList<string> args, Dictionary<string, string> env)
    {
        var psi = CliRunner.StartInfo(args, env);
        var command = psi.ArgumentList.ToList();
        psi.ArgumentList.Clear();
        foreach (var a in new[] { "-c", "umask 000 && exec \"$0\" \"$@\"", psi.FileName }.Concat(command)) psi.ArgumentList.Add(a);
        psi.FileName = "/bin/sh";
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await p.WaitForExitAsync(timeout.Token);
        return new CliRunner.Result(p.ExitCode, await stdout, await stderr);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
