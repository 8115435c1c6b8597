using System.Diagnostics;

namespace OdooOps.Database;

/// <summary>
/// The machine's PostgreSQL programs (initdb, pg_ctl, pg_dump, …) and how to run them.
/// As root, server programs run as the <c>postgres</c> OS user: initdb and postgres refuse root.
/// </summary>
public sealed class PostgresBinaries
{
    public const string InstallHint =
        "Install them with 'sudo apt-get install postgresql' (Debian/Ubuntu), or point OdooOps at an existing database with --database-url / OPS_DATABASE_URL.";

    public string BinDir { get; }

    PostgresBinaries(string binDir) => BinDir = binDir;

    public static bool IsRoot => Environment.UserName == "root" || geteuid() == 0;

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    static extern uint geteuid();

    /// <summary>Finds a folder holding initdb, pg_ctl and postgres; throws with an install hint when none does.</summary>
    public static PostgresBinaries Locate(string? searchPath = null)
    {
        foreach (var dir in Candidates(searchPath))
            if (File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")) && File.Exists(Path.Combine(dir, "postgres")))
                return new PostgresBinaries(dir);
        throw new PostgresNotInstalledException(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH, under /usr/lib/postgresql/*/bin or via pg_config --bindir. " + InstallHint);
    }

    /// <summary>
    /// Finds a folder holding the client programs (pg_dump, pg_restore, psql) — on PATH, else the newest of
    /// /usr/lib/postgresql — with which a runner backs up and restores; it needs no server of its own.
    /// </summary>
    public static PostgresBinaries LocateClients(string? searchPath = null)
    {
        foreach (var dir in Candidates(searchPath, "pg_restore"))
            if (File.Exists(Path.Combine(dir, "pg_dump")) && File.Exists(Path.Combine(dir, "pg_restore")) && File.Exists(Path.Combine(dir, "psql")))
                return new PostgresBinaries(dir);
        throw new PostgresNotInstalledException(
            "PostgreSQL client programs (pg_dump, pg_restore, psql) were not found on PATH, under /usr/lib/postgresql/*/bin or via pg_config --bindir. " +
            "Install them with 'sudo apt-get install postgresql-client' (Debian/Ubuntu).");
    }

    static IEnumerable<string> Candidates(string? searchPath, string probe = "initdb")
    {
        var path = searchPath ?? Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var initdb = Path.Combine(dir, probe);
            if (!File.Exists(initdb)) continue;
            // /usr/local/bin/initdb is often a symlink into the versioned folder: use the real one.
            var real = new FileInfo(initdb).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? initdb;
            yield return Path.GetDirectoryName(real)!;
        }
        if (searchPath is not null) yield break; // tests ask for PATH only
        const string debianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(debianRoot))
        {
            var versions = Directory.GetDirectories(debianRoot)
                .Select(d => (dir: d, ok: int.TryParse(Path.GetFileName(d), out var v), v))
                .Where(x => x.ok).OrderByDescending(x => x.v);
            foreach (var (dir, _, _) in versions) yield return Path.Combine(dir, "bin");
        }
        var fromPgConfig = TryPgConfigBindir();
        if (fromPgConfig is not null) yield return fromPgConfig;
    }

    static string? TryPgConfigBindir()
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("pg_config", "--bindir") { RedirectStandardOutput = true, RedirectStandardError = true });
            if (p is null) return null;
            var output = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return p.ExitCode == 0 && output.Length > 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; }
    }

    public string Tool(string name) => Path.Combine(BinDir, name);

    /// <summary>Runs a PostgreSQL program; server programs run as the postgres user when we are root.</summary>
    public Task<ProcessResult> RunServerToolAsync(string tool, IEnumerable<string> args, CancellationToken ct = default) =>
        IsRoot
            ? ProcessRunner.RunAsync("runuser", ["-u", "postgres", "--", Tool(tool), .. args], null, ct)
            : ProcessRunner.RunAsync(Tool(tool), args, null, ct);

    /// <summary>Runs a client program (pg_dump, pg_restore, psql) as ourselves.</summary>
    public Task<ProcessResult> RunClientToolAsync(string tool, IEnumerable<string> args, IDictionary<string, string>? env, CancellationToken ct = default) =>
        ProcessRunner.RunAsync(Tool(tool), args, env, ct);
}

internal sealed class PostgresNotInstalledException(string message) : Exception(message);

public sealed record ProcessResult(int ExitCode, string Output, string Error)
{
    public string Describe() => (Error.Trim().Length > 0 ? Error : Output).Trim();
}

public static class ProcessRunner
{
    public static async Task<ProcessResult> RunAsync(string file, IEnumerable<string> args, IDictionary<string, string>? env, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {file}.");
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        return new ProcessResult(p.ExitCode, await stdout, await stderr);
    }
}
