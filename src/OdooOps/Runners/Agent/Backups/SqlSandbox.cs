using OdooOps.Database;
using OdooOps.Runners.Agent.Execution;
using OdooOps.Runners.Agent.Instances;
using OdooOps.Runners.Agent.Sandbox;

namespace OdooOps.Runners.Agent.Backups;

/// <summary>
/// Where a plain-SQL dump (Odoo's <c>dump.sql</c>) is run: psql in a build sandbox of its own. Plain SQL from a user is
/// untrusted and psql obeys client-side commands in it (<c>\!</c> runs a shell, <c>\copy … program</c> a program,
/// <c>\o</c>/<c>\w</c> write files): in the sandbox they run as a throwaway uid that sees the system read-only, a
/// private /tmp, the dump (read-only) and the database's socket, with no network (over TCP: the sandbox's own
/// outbound network, never the runner's loopback). Telling meta-commands apart ourselves would mean parsing SQL
/// exactly as psql does (quotes, dollar quotes, COPY data): one mismatch and a command runs as root on the host.
/// psql connects as the project's role, so the SQL itself can do no more than the tenant's Odoo can.
/// </summary>
internal sealed record SqlSandbox(SandboxSettings Settings, SandboxUids Uids, string WorkDir)
{
    const string SandboxDump = "/run/odooops/dump.sql";
    const int MaxLoggedLines = 500;

    public async Task RunPsqlAsync(PostgresBinaries postgres, OdooDatabaseServer server, OdooData target, string sqlFile,
        Action<string>? log, CancellationToken ct)
    {
        var id = Guid.NewGuid();
        await using var sandbox = await BuildSandbox.CreateAsync(Settings, Uids, WorkDir, id, ct);
        var workspace = Directory.CreateDirectory(Path.Combine(Path.GetFullPath(WorkDir), "restores", id.ToString("D"))).FullName;
        try
        {
            await sandbox.OwnAsync(workspace, ct);
            File.SetUnixFileMode(sqlFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            var run = sandbox.Run(workspace, network: server.SocketBinds.Count == 0) with { Binds = [.. server.SocketBinds, (sqlFile, SandboxDump)] };
            var env = new Dictionary<string, string>(server.OdooEnvironment(target.ProjectId, target.Production))
            {
                ["PGDATABASE"] = target.DatabaseName, ["PGAPPNAME"] = "odooops-psql", ["LC_ALL"] = "C",
            };
            var lines = 0;
            var errors = new Queue<string>();
            var result = await SessionProcess.RunAsync(
                new ProcessCommand(postgres.Tool("psql"), ["--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1", "--file", SandboxDump], workspace)
                {
                    Environment = env,
                },
                line =>
                {
                    if (++lines <= MaxLoggedLines) log?.Invoke($"psql: {line.Text}");
                    else if (lines == MaxLoggedLines + 1) log?.Invoke("psql: (further lines not shown)");
                    if (line.Stream == LogStream.Stderr)
                    {
                        errors.Enqueue(line.Text.Length > 1000 ? line.Text[..1000] + "…" : line.Text);
                        if (errors.Count > 5) errors.Dequeue();
                    }
                },
                ProcessOptions.Default with { Sandbox = run }, ct);
            if (result.Outcome == StepOutcome.Cancelled) throw new OperationCanceledException(ct);
            if (!result.Succeeded)
                throw new BackupException($"psql failed (exit code {result.ExitCode}){(errors.Count > 0 ? ": " + string.Join(" | ", errors) : ".")}");
        }
        finally
        {
            WorkspaceFolder.Delete(workspace);
        }
    }
}
