using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Dapper;
using OdooOps.Tests.Backups;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Cli.Client;

/// <summary>
/// `odooops backups list|show|create|download|restore|verify|import|cancel` (the real binary) against a real serve: an
/// admin imports an Odoo zip, lists it, downloads it back through the signed link into a file holding the same dump,
/// files and manifest, verifies it and restores it into production with --confirm (a wrong name is one line and nothing
/// happens); a tester's backup of production is refused in one line; the 6th manual backup of a day exits non-zero with
/// the server's words; a tester cancels a queued restore into staging, and an ended task, an unknown one and a
/// production restore (an admin's) are each one line, changing nothing.
/// </summary>
public sealed class BackupsVerbTests(BackupWorld world) : IClassFixture<BackupWorld>, IDisposable
{
    readonly CliSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    Dictionary<string, string> As(TenantRole role) => new()
    {
        ["ODOOOPS_URL"] = world.Server.Url, ["ODOOOPS_TOKEN"] = world.Token(world.A, role), ["NO_COLOR"] = "1",
    };

    [Fact]
    public async Task An_admin_imports_lists_downloads_verifies_and_restores_a_backup()
    {
        var env = As(TenantRole.Admin);
        var zip = Path.Combine(_sandbox.Home, "erp.zip");
        const string sql = "create table partner (id int primary key, name text);\n";
        var bytes = Backups.Storage.BackupZips.Odoos(sql);
        await File.WriteAllBytesAsync(zip, bytes);

        var imported = await _sandbox.RunAsync(["backups", "import", zip, "--project", "erp", "--branch", "main", "--json"], env);
        Assert.True(imported.ExitCode == 0, imported.Error);
        var id = JsonDocument.Parse(imported.Output).RootElement.GetProperty("id").GetGuid();

        var list = await _sandbox.RunAsync(["backups", "list", "--project", "erp", "--branch", "main"], env);
        Assert.Equal(0, list.ExitCode);
        Assert.Matches($@"{id}\s+main\s+import\s+succeeded\s+{System.Text.RegularExpressions.Regex.Escape(OdooOps.Cli.Client.BackupsCommand.Size(bytes.Length))}\s+pending\s+2\s", list.Output);

        var target = Path.Combine(_sandbox.Home, "copy.zip");
        var download = await _sandbox.RunAsync(["backups", "download", id.ToString(), "-o", target], env);
        Assert.True(download.ExitCode == 0, download.Error);
        Assert.StartsWith($"Wrote {target} (", download.Output.Trim());
        await using (var copy = await ZipFile.OpenReadAsync(target))
        {
            Assert.Equal(["dump.sql", Backups.Storage.BackupZips.FilePath, "manifest.json"], copy.Entries.Select(e => e.FullName));
            using var dump = new StreamReader(copy.GetEntry("dump.sql")!.Open(), Encoding.UTF8);
            Assert.Equal(sql, await dump.ReadToEndAsync());
        }

        // The import queued its verification; once done, a second one may be asked for.
        await world.ExecuteAsync("update ops.runner_tasks set status = 'succeeded', finished_at = now() where backup_id = @id and kind = 'verify'", new { id });
        var verify = await _sandbox.RunAsync(["backups", "verify", id.ToString()], env);
        Assert.True(verify.ExitCode == 0, verify.Error);
        Assert.StartsWith($"Verification of {id} queued", verify.Output);

        var wrong = await _sandbox.RunAsync(["backups", "restore", id.ToString(), "--project", "erp", "--branch", "main", "--confirm", "staging"], env);
        Assert.Contains("confirm: Type the branch name, main, to confirm", CliSandbox.OneLineError(wrong));
        Assert.Equal(0L, await world.ScalarAsync<long>("select count(*) from ops.runner_tasks where backup_id = @id and kind = 'restore'", new { id }));

        var restore = await _sandbox.RunAsync(["backups", "restore", id.ToString(), "--project", "erp", "--branch", "main", "--confirm", "main"], env);
        Assert.True(restore.ExitCode == 0, restore.Error);
        Assert.Matches(@"^Restore into main queued \(task [0-9a-f-]{36}\): a pre-restore backup \([0-9a-f-]{36}\) is taken first", restore.Output);
        var show = await _sandbox.RunAsync(["backups", "show", id.ToString()], env);
        Assert.Contains("restore task", show.Output);
        await world.ExecuteAsync("update ops.runner_tasks set status = 'cancelled', finished_at = now() where backup_id = @id and kind = 'restore'", new { id });
    }

    [Fact]
    public async Task Refusals_are_one_line_a_tester_on_production_and_the_sixth_backup_of_a_day()
    {
        var tester = await _sandbox.RunAsync(["backups", "create", "--project", "erp", "--branch", "main"], As(TenantRole.Tester));
        Assert.Contains("Backing up the production branch main needs the admin role or higher; you are tester.", CliSandbox.OneLineError(tester));

        var (_, branch) = await BackupRows.NewHostedBranchAsync(world.Server.Owner, world.A.ProjectId);
        for (var i = 0; i < 5; i++)
        {
            var ok = await _sandbox.RunAsync(["backups", "create", "--project", "erp", "--branch", branch], As(TenantRole.Tester));
            Assert.True(ok.ExitCode == 0, ok.Error);
        }
        var sixth = await _sandbox.RunAsync(["backups", "create", "--project", "erp", "--branch", branch], As(TenantRole.Tester));
        Assert.Contains("Too many backups: " + branch + " already had 5 manual backups in the last 24 hours", CliSandbox.OneLineError(sixth));
    }

    [Fact]
    public async Task A_tester_cancels_a_queued_restore_and_refusals_are_one_line()
    {
        var env = As(TenantRole.Tester);
        var backup = await BackupRows.InsertAsync(world.Server.Owner, world.A.ProductionBranchId, new(Verification: "verified"));
        async Task<Guid> QueuedRestoreAsync(Guid branch) => await world.ScalarAsync<Guid>("""
            insert into ops.runner_tasks (project_id, branch_id, kind, backup_id, runner_id)
            select project_id, id, 'restore', @backup, @runner from ops.branches where id = @branch returning id
            """, new { backup, branch, runner = world.A.RunnerId });

        var task = await QueuedRestoreAsync(world.A.StagingBranchId);
        var cancelled = await _sandbox.RunAsync(["backups", "cancel", task.ToString()], env);
        Assert.True(cancelled.ExitCode == 0, cancelled.Error);
        Assert.Equal($"Restore into staging (task {task}) cancelled.", cancelled.Output.Trim());
        Assert.Equal("cancelled", await world.ScalarAsync<string>("select status from ops.runner_tasks where id = @task", new { task }));

        var again = await _sandbox.RunAsync(["backups", "cancel", task.ToString()], env);
        Assert.Contains($"The restore task {task} is cancelled already; there is nothing to cancel.", CliSandbox.OneLineError(again));
        var unknown = await _sandbox.RunAsync(["backups", "cancel", Guid.NewGuid().ToString()], env);
        Assert.Contains("No such backup, branch or task", CliSandbox.OneLineError(unknown));

        var production = await QueuedRestoreAsync(world.A.ProductionBranchId);
        var refused = await _sandbox.RunAsync(["backups", "cancel", production.ToString(), "--json"], env);
        Assert.Contains("Cancelling a restore task of the production branch main needs the admin role or higher; you are tester.", CliSandbox.OneLineError(refused));
        Assert.Equal("queued", await world.ScalarAsync<string>("select status from ops.runner_tasks where id = @production", new { production }));
        var admin = await _sandbox.RunAsync(["backups", "cancel", production.ToString(), "--json"], As(TenantRole.Admin));
        Assert.True(admin.ExitCode == 0, admin.Error);
        Assert.Equal("cancelled", JsonDocument.Parse(admin.Output).RootElement.GetProperty("task").GetProperty("status").GetString());
    }
}
