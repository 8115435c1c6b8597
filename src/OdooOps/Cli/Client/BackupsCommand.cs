using System.CommandLine;
using System.Net.Http.Headers;
using OdooOps.Backups;
using OdooOps.Backups.Pages;

namespace OdooOps.Cli.Client;

/// <summary>
/// `odooops backups list|show|create|download|restore|verify|import|cancel`: a project's backups over the REST API (the
/// rules, roles, quota and audit are the API's use cases). A download follows the signed link the API gives and streams
/// the zip to a file; an import streams a zip as the request body; cancel stops a backup's queued or running task.
/// </summary>
internal static class BackupsCommand
{
    public static Command Create()
    {
        var backups = new Command("backups", "Backups of your branches: list, show, create, download, restore, verify, import, cancel (needs `odooops login`).");
        backups.Add(List());
        backups.Add(Show());
        backups.Add(CreateBackup());
        backups.Add(DownloadCommand());
        backups.Add(Restore());
        backups.Add(Verify());
        backups.Add(ImportCommand());
        backups.Add(Cancel());
        return backups;
    }

    static Argument<Guid> IdArgument() => new("backup-id") { Description = "The backup's id (as `odooops backups list` prints it)." };
    static Option<string> ProjectOption() => new("--project", "-p") { Description = "The project's slug or id.", Required = true };
    static Option<string> BranchOption(string description) => new("--branch") { Description = description, Required = true };

    static Command List()
    {
        var project = ProjectOption();
        var org = ProjectsCommand.OrgOption("The project's organisation (when its slug is used in several).");
        var branch = new Option<string?>("--branch") { Description = "Only this branch's backups (name or id)." };
        var all = new Option<bool>("--all") { Description = "Also the pruned backups (their files are gone)." };
        var json = ProjectsCommand.JsonOption();
        var command = new Command("list", "Backups, newest first: kind, status, size, verified or why not, installed modules, when, who.") { project, org, branch, all, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var p = await ProjectResolver.ResolveAsync(api, parse.GetValue(project)!, parse.GetValue(org), ct);
            var query = $"?include_pruned={(parse.GetValue(all) ? "true" : "false")}";
            if (parse.GetValue(branch) is { } b) query += $"&branch_id={(await BranchResolver.ResolveAsync(api, p, b, ct)).Id}";
            var list = await api.GetAsync<BackupsApi.BackupList>($"api/ops/projects/{p.Id}/backups{query}", ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(list); return 0; }
            ConsoleOutput.Table(["backup", "branch", "kind", "status", "size", "verified", "modules", "created", "by"],
                list.Backups.Select(k => (IReadOnlyList<string?>)[k.Id.ToString(), k.Branch, k.Kind, StatusText(k), Size(k.SizeBytes), VerifiedText(k),
                    k.ModulesCount?.ToString() ?? "—", ConsoleOutput.Ago(k.CreatedAt), k.RequestedByName ?? (k.BuildId is null ? "schedule" : "build")]));
            if (list.Backups.Count == 0) Console.Error.WriteLine($"No backups in {p.Slug} yet: production is backed up daily; take one with odooops backups create.");
            return 0;
        }));
        return command;
    }

    static Command Show()
    {
        var id = IdArgument();
        var json = ProjectsCommand.JsonOption();
        var command = new Command("show", "One backup: what it holds, its verification, and its tasks with their logs.") { id, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var detail = await GetAsync(api, parse.GetValue(id), ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(detail); return 0; }
            var k = detail.Backup;
            ConsoleOutput.Table(["", ""], new (string, string?)[]
            {
                ("backup", k.Id.ToString()), ("branch", $"{k.Branch} ({k.Stage})"), ("kind", k.Kind), ("status", StatusText(k)),
                ("verified", VerifiedText(k)), ("size", Size(k.SizeBytes)), ("sha256", k.Sha256 ?? "—"), ("odoo", k.OdooVersion ?? "—"),
                ("modules", k.ModulesCount?.ToString() ?? "—"), ("tables", k.TableCount?.ToString() ?? "—"),
                ("filestore", k.FilestoreFiles is { } files ? $"{files} files, {Size(k.FilestoreBytes)}" : "—"),
                ("created", ConsoleOutput.Ago(k.CreatedAt)), ("by", k.RequestedByName ?? "—"), ("pruned", ConsoleOutput.Ago(k.DeletedAt)),
            }.Select(r => (IReadOnlyList<string?>)[r.Item1, r.Item2]));
            foreach (var task in detail.Tasks)
            {
                Console.WriteLine();
                Console.WriteLine($"{task.Kind} task {task.Id} on {task.Branch}: {task.Status}{(task.CancelRequested && task.Status == "running" ? " (cancel requested)" : "")}{(task.Detail is { } d ? $": {d}" : "")}");
                foreach (var line in task.Logs) Console.WriteLine($"  {line.Ts:HH:mm:ss} {line.Line}");
            }
            return 0;
        }));
        return command;
    }

    static Command CreateBackup()
    {
        var project = ProjectOption();
        var org = ProjectsCommand.OrgOption("The project's organisation (when its slug is used in several).");
        var branch = BranchOption("The branch to back up (name or id).");
        var json = ProjectsCommand.JsonOption();
        var command = new Command("create", "Take a manual backup of a branch now (at most 5 a day per branch).") { project, org, branch, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var (p, b) = await ResolveAsync(api, parse.GetValue(project)!, parse.GetValue(org), parse.GetValue(branch)!, ct);
            var backup = await api.PostAsync<Backup>($"api/ops/projects/{p.Id}/branches/{b.Id}/backups", new { }, ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(backup); return 0; }
            Console.WriteLine(backup.Status == "failed"
                ? $"Backup {backup.Id} of {b.Name} failed: {backup.Reason}"
                : $"Backup {backup.Id} of {b.Name} queued: its host takes it, then a runner verifies it (odooops backups show {backup.Id}).");
            return backup.Status == "failed" ? 3 : 0;
        }));
        return command;
    }

    static Command Restore()
    {
        var id = IdArgument();
        var project = ProjectOption();
        var org = ProjectsCommand.OrgOption("The project's organisation (when its slug is used in several).");
        var branch = BranchOption("The branch to restore into (name or id), in the backup's project.");
        var confirm = new Option<string?>("--confirm") { Description = "Production only: the branch's name, typed again; its database and filestore are replaced (after a pre-restore backup)." };
        var json = ProjectsCommand.JsonOption();
        var command = new Command("restore", "Restore a backup into a branch: production needs --confirm NAME and is backed up first; staging and development are neutralised.")
            { id, project, org, branch, confirm, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var (_, b) = await ResolveAsync(api, parse.GetValue(project)!, parse.GetValue(org), parse.GetValue(branch)!, ct);
            var queued = await api.PostAsync<BackupsApi.TaskQueued>($"api/ops/backups/{parse.GetValue(id)}/restore",
                new BackupsApi.RestoreRequest(b.Id, parse.GetValue(confirm)), ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(queued); return 0; }
            Console.WriteLine(queued.PreRestore is { } pre
                ? $"Restore into {b.Name} queued (task {queued.Task.Id}): a pre-restore backup ({pre.Id}) is taken first, then the database and filestore are replaced."
                : $"Restore into {b.Name} queued (task {queued.Task.Id}): the restored database is neutralised (no outgoing mail, crons off, test payments).");
            return 0;
        }));
        return command;
    }

    static Command Verify()
    {
        var id = IdArgument();
        var json = ProjectsCommand.JsonOption();
        var command = new Command("verify", "Verify a backup again: a runner restores it into a scratch database, checks it and drops it.") { id, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var queued = await api.PostAsync<BackupsApi.TaskQueued>($"api/ops/backups/{parse.GetValue(id)}/verify", new { }, ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(queued); return 0; }
            Console.WriteLine($"Verification of {queued.Backup.Id} queued (task {queued.Task.Id}); see odooops backups show {queued.Backup.Id}.");
            return 0;
        }));
        return command;
    }

    static Command DownloadCommand()
    {
        var id = IdArgument();
        var output = new Option<string?>("--output", "-o") { Description = "The file to write (default: the backup's name, in the current folder)." };
        var command = new Command("download", "Download a backup as Odoo's zip (dump.sql, filestore/, manifest.json) through a short-lived signed link.") { id, output };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var link = await api.PostAsync<DownloadLink>($"api/ops/backups/{parse.GetValue(id)}/download", new { }, ct);
            var path = Path.GetFullPath(parse.GetValue(output) ?? link.FileName);
            var bytes = await BackupTransfer.DownloadAsync(new Uri(new Uri(api.BaseUrl + "/"), link.Url), path, ct);
            Console.WriteLine($"Wrote {path} ({Size(bytes)}).");
            return 0;
        }));
        return command;
    }

    static Command ImportCommand()
    {
        var file = new Argument<FileInfo>("zip") { Description = "The backup zip: Odoo's (dump.sql, filestore/, manifest.json) or one downloaded from OdooOps." };
        var project = ProjectOption();
        var org = ProjectsCommand.OrgOption("The project's organisation (when its slug is used in several).");
        var branch = BranchOption("The branch the backup is for (name or id); restore it there afterwards.");
        var json = ProjectsCommand.JsonOption();
        var command = new Command("import", "Upload a backup zip as a backup of a branch; it is verified next, and restored only when you ask.") { file, project, org, branch, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            var zip = parse.GetValue(file)!;
            if (!zip.Exists) throw new ArgumentException($"{zip.FullName} does not exist.");
            using var api = ApiClient.FromConfig(Timeout.InfiniteTimeSpan);
            var (p, b) = await ResolveAsync(api, parse.GetValue(project)!, parse.GetValue(org), parse.GetValue(branch)!, ct);
            await using var stream = zip.OpenRead();
            using var content = new StreamContent(stream, 1 << 20);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
            content.Headers.ContentLength = zip.Length;
            var backup = await api.PostContentAsync<Backup>($"api/ops/projects/{p.Id}/branches/{b.Id}/backups/import", content, ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(backup); return 0; }
            Console.WriteLine($"Imported {zip.Name} as backup {backup.Id} of {b.Name} ({Size(backup.SizeBytes)}); it is verified next. Restore it with: odooops backups restore {backup.Id} --project {p.Slug} --branch {b.Name}");
            return 0;
        }));
        return command;
    }

    static Command Cancel()
    {
        var id = new Argument<Guid>("task-id") { Description = "The task's id (as `odooops backups show` prints it)." };
        var json = ProjectsCommand.JsonOption();
        var command = new Command("cancel", "Cancel a backup's queued or running task (taking, verifying or restoring a backup): a queued one at once, a running one when its runner hears it.")
            { id, json };
        command.SetAction((parse, ct) => CliCommon.Guard(async () =>
        {
            using var api = ApiClient.FromConfig();
            var cancelled = await api.PostAsync<BackupsApi.TaskCancelled>($"api/ops/backups/tasks/{parse.GetValue(id)}/cancel", new { }, ct);
            if (parse.GetValue(json)) { ConsoleOutput.Json(cancelled); return 0; }
            var t = cancelled.Task;
            var what = BackupDisplay.TaskLabel(t.Kind, t.Branch);
            Console.WriteLine(t.Status == "cancelled"
                ? $"{what} (task {t.Id}) cancelled."
                : $"{what} (task {t.Id}) is running: its runner was asked to stop it and does so at its next heartbeat (odooops backups show {cancelled.Backup.Id}).");
            return 0;
        }));
        return command;
    }

    static async Task<(Projects.ProjectSummary Project, Branches.BranchSummary Branch)> ResolveAsync(ApiClient api, string project, string? org,
        string branch, CancellationToken ct)
    {
        var p = await ProjectResolver.ResolveAsync(api, project, org, ct);
        return (p, await BranchResolver.ResolveAsync(api, p, branch, ct));
    }

    static async Task<BackupsApi.BackupDetail> GetAsync(ApiClient api, Guid id, CancellationToken ct)
    {
        try { return await api.GetAsync<BackupsApi.BackupDetail>($"api/ops/backups/{id}", ct); }
        catch (ApiException e) when (e.Status == System.Net.HttpStatusCode.NotFound)
        {
            throw new ApiException(e.Status, $"No backup with the id {id} (or it is not yours to see).");
        }
    }

    static string StatusText(Backup k) => k.Status + (k.Reason is { Length: > 0 } r ? $": {r}" : "") + (k.DeletedAt is null ? "" : " (pruned)");

    static string VerifiedText(Backup k) => k.Verification switch
    {
        "verified" => "yes",
        "failed" => $"no: {k.VerificationReason}",
        var other => other,
    };

    public static string Size(long? bytes) => bytes switch
    {
        null => "—",
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:0.#} KiB",
        < 1024L * 1024 * 1024 => $"{bytes / (1024.0 * 1024):0.#} MiB",
        _ => $"{bytes / (1024.0 * 1024 * 1024):0.##} GiB",
    };
}

/// <summary>Follows a signed download link (no credentials: the link is its own) and streams the answer to a file.</summary>
internal static class BackupTransfer
{
    public static async Task<long> DownloadAsync(Uri link, string path, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        using var response = await http.GetAsync(link, HttpCompletionOption.ResponseHeadersRead, ct);
        if (!response.IsSuccessStatusCode) throw new ApiException(response.StatusCode, await ApiClient.DescribeAsync(response, ct));
        var partial = path + ".part";
        await using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, useAsync: true))
            await response.Content.CopyToAsync(file, ct);
        File.Move(partial, path, overwrite: true);
        return new FileInfo(path).Length;
    }
}
