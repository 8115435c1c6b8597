using System.Net;
using System.Net.Http.Json;
using Dapper;
using OdooOps.Backups.Tasks;
using OdooOps.Tests.Infrastructure;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Tests.Backups.Tasks;

/// <summary>
/// A task's calls under its lease (tasks/{id}/extend, logs, done): 409 and nothing changed for another runner's lease,
/// a lease the rescuer took back and a task already ended; numbered log lines stored once, capped like a build's, and
/// announced to live followers; a cancel reaching the runner through its heartbeat, with the role that may ask for the task.
/// </summary>
public sealed class TaskLeaseTests(PostgresCluster cluster) : IAsyncLifetime
{
    TaskWorld _w = null!;

    // The smallest log cap there is, so one test fills it.
    public async ValueTask InitializeAsync() =>
        _w = await TaskWorld.StartAsync(cluster, new Dictionary<string, string?> { ["OPS_BUILD_LOG_MAX_LINES"] = "1000" });

    public async ValueTask DisposeAsync() => await _w.DisposeAsync();

    async Task<(TaskWorld.Runner Host, RunnerTask Task, Guid Backup)> LeasedBackupAsync(string name)
    {
        var host = await _w.RunnerAsync(name);
        var backup = await _w.BackupAsync();
        await _w.TaskAsync("backup", backup, runner: host);
        return (host, Assert.Single(await _w.SyncAsync(host)), backup);
    }

    static LogLine Line(long seq, string text) => new(seq, null, "stdout", text);

    [Fact]
    public async Task Calls_without_the_lease_are_409_and_change_nothing()
    {
        var (host, task, backup) = await LeasedBackupAsync("holder");
        var thief = await _w.RunnerAsync("thief");
        var otherOrg = await _w.RunnerAsync("stranger", await Accounts.CreateOrgAsync(_w.World.Owner, "elsewhere"));

        foreach (var (runner, lease) in new[] { (thief, task.LeaseId), (otherOrg, task.LeaseId), (host, Guid.NewGuid()) })
        {
            Assert.Equal(HttpStatusCode.Conflict, await _w.StatusAsync(runner, TaskExtend(task.TaskId), new TaskExtendRequest(lease)));
            Assert.Equal(HttpStatusCode.Conflict, await _w.StatusAsync(runner, TaskLogs(task.TaskId), new TaskLogsRequest(lease, [Line(0, "forged")])));
            Assert.Equal(HttpStatusCode.Conflict, await _w.StatusAsync(runner, TaskDone(task.TaskId), new TaskDoneRequest(lease, "failed", "forged")));
            Assert.Equal(HttpStatusCode.Conflict, await _w.BackupDoneAsync(runner, backup, lease, "failed", detail: "forged"));
        }
        Assert.Empty(await _w.TaskLogAsync(task.TaskId));
        Assert.Equal("running", (await _w.TaskRowAsync(task.TaskId)).Status);
        Assert.Equal("running", (await _w.BackupRowAsync(backup)).Status);

        // The holder's own calls work; once the task ended, they are 409 too.
        using (var extended = await _w.PostAsync(host, TaskExtend(task.TaskId), new TaskExtendRequest(task.LeaseId)))
        {
            Assert.Equal(HttpStatusCode.OK, extended.StatusCode);
            Assert.False((await extended.Content.ReadFromJsonAsync<Extended>(Json))!.CancelRequested);
        }
        Assert.Equal(HttpStatusCode.NoContent, await _w.DoneAsync(host, task, "failed", "pg_dump exited 1"));
        Assert.Equal(HttpStatusCode.Conflict, await _w.StatusAsync(host, TaskExtend(task.TaskId), new TaskExtendRequest(task.LeaseId)));
        Assert.Equal(HttpStatusCode.Conflict, await _w.DoneAsync(host, task, "succeeded"));
        Assert.Equal(HttpStatusCode.Conflict, await _w.StatusAsync(host, TaskLogs(task.TaskId), new TaskLogsRequest(task.LeaseId, [Line(0, "late")])));
        Assert.Equal(("failed", "pg_dump exited 1"), ((await _w.TaskRowAsync(task.TaskId)).Status, (await _w.TaskRowAsync(task.TaskId)).Detail));
        Assert.Equal(("failed", "pg_dump exited 1"), ((await _w.BackupRowAsync(backup)).Status, (await _w.BackupRowAsync(backup)).Reason));
    }

    static readonly (string Call, string Json, string Field)[] BadRequests =
    [
        ("extend", """{}""", "lease_id"),
        ("logs", """{"lease_id":"00000000-0000-0000-0000-000000000001","lines":[]}""", "lines"),
        ("done", """{"lease_id":"00000000-0000-0000-0000-000000000001","result":"great"}""", "result"),
        ("done", """{"lease_id":"00000000-0000-0000-0000-000000000001","result":"succeeded","verification":{"passed":true,"checks":[{"name":"","passed":true,"detail":""}]}}""", "verification.checks[0].name"),
        ("backup", """{"lease_id":"00000000-0000-0000-0000-000000000001","result":"succeeded"}""", "facts"),
        ("backup", """{"lease_id":"00000000-0000-0000-0000-000000000001","result":"succeeded","facts":{"size_bytes":1,"sha256":"ABC","duration_ms":1,"odoo_version":"19.0","modules":[],"table_count":1,"filestore_files":0,"filestore_bytes":0,"filestore_sha256":"%"}}""", "facts.sha256"),
        ("job", """{"lease_id":"00000000-0000-0000-0000-000000000001","kind":"daily"}""", "kind"),
        ("job", """{"kind":"pre-deploy"}""", "lease_id"),
    ];

    // One world for every case: each is refused before it reaches the database.
    [Fact]
    public async Task Bad_requests_are_400_naming_the_field_and_calls_without_a_runner_token_401()
    {
        var runner = await _w.RunnerAsync("careless");
        foreach (var (call, json, field) in BadRequests)
            await RefusedAsync(runner, call, json, field);
    }

    async Task RefusedAsync(TaskWorld.Runner runner, string call, string json, string field)
    {
        var id = Guid.NewGuid();
        var path = call switch
        {
            "extend" => TaskExtend(id), "logs" => TaskLogs(id), "done" => TaskDone(id), "backup" => BackupDone(id), _ => JobBackups(id),
        };
        using var http = new HttpClient { BaseAddress = _w.World.Url };
        using var anonymous = await http.PostAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        http.DefaultRequestHeaders.Authorization = new("Bearer", runner.Token);
        using var response = await http.PostAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"errors name {field}: {problem}");
    }

    [Fact]
    public async Task A_lease_the_rescuer_took_back_is_409_to_its_old_runner()
    {
        var (host, task, backup) = await LeasedBackupAsync("lost-contact");
        await _w.ExpireAsync(task.TaskId);
        // Past its time but not yet taken back, the lease still holds (as for builds): a late heartbeat renews it.
        Assert.Equal(HttpStatusCode.OK, await _w.StatusAsync(host, TaskExtend(task.TaskId), new TaskExtendRequest(task.LeaseId)));
        await _w.ExpireAsync(task.TaskId);
        Assert.Equal((1, 0, 0), await _w.RescueAsync());

        Assert.Equal(HttpStatusCode.Conflict, await _w.StatusAsync(host, TaskExtend(task.TaskId), new TaskExtendRequest(task.LeaseId)));
        Assert.Equal(HttpStatusCode.Conflict, await _w.StatusAsync(host, TaskLogs(task.TaskId), new TaskLogsRequest(task.LeaseId, [Line(0, "zombie")])));
        Assert.Equal(HttpStatusCode.Conflict, await _w.DoneAsync(host, task, "succeeded"));
        // Its backup's report too (ops_private.backup_right): the backup waits for the next attempt, as it was.
        Assert.Equal(HttpStatusCode.Conflict, await _w.BackupDoneAsync(host, backup, task.LeaseId, "failed", detail: "zombie"));
        Assert.Equal("pending", (await _w.BackupRowAsync(backup)).Status);
        var again = Assert.Single(await _w.SyncAsync(host));
        Assert.Equal((task.TaskId, 2), (again.TaskId, again.Attempt));
        Assert.NotEqual(task.LeaseId, again.LeaseId);
    }

    [Fact]
    public async Task Log_lines_are_stored_once_capped_like_a_build_log_and_announced()
    {
        var (host, task, _) = await LeasedBackupAsync("chatty");
        using var follower = _w.World.Service<RunnerTaskLogNotifications>().Subscribe(task.TaskId);
        var batch = Enumerable.Range(0, 3).Select(i => Line(i, $"line {i}")).ToList();

        async Task<LogsAccepted> SendAsync(IReadOnlyList<LogLine> lines)
        {
            using var response = await _w.PostAsync(host, TaskLogs(task.TaskId), new TaskLogsRequest(task.LeaseId, lines));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<LogsAccepted>(Json))!;
        }

        Assert.Equal(new LogsAccepted(3, false), await SendAsync(batch));
        Assert.True(await follower.WaitAsync(TimeSpan.FromSeconds(60), default), "a live follower is woken by the batch");
        Assert.Equal(new LogsAccepted(0, false), await SendAsync(batch)); // sent again after a lost answer
        Assert.Equal(["0 stdout: line 0", "1 stdout: line 1", "2 stdout: line 2"], await _w.TaskLogAsync(task.TaskId));

        // OPS_BUILD_LOG_MAX_LINES (1000 here) holds for a task's log too: the line past it is dropped, and said.
        var full = await SendAsync([.. Enumerable.Range(3, 1000).Select(i => Line(i, $"line {i}"))]);
        Assert.Equal(new LogsAccepted(997, true), full);
        var log = await _w.TaskLogAsync(task.TaskId);
        Assert.Equal(1001, log.Count);
        Assert.StartsWith("1000 system: The log of this task is cut at 1000 lines", log[^1]);

        using var bad = await _w.PostAsync(host, TaskLogs(task.TaskId), new TaskLogsRequest(task.LeaseId, [new LogLine(5000, null, "stdin", "x")]));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("lines[0].stream", await bad.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_cancel_needs_the_role_that_may_ask_for_the_task_and_reaches_the_runner_by_its_heartbeat()
    {
        var host = await _w.RunnerAsync("cancelled");
        await _w.PinAsync("main", host);
        var restore = await _w.TaskAsync("restore", await _w.BackupAsync(status: "succeeded"));
        var tester = await Accounts.CreateUserAsync(_w.World.Owner, "tester@example.com", _w.World.OrgId, "tester");
        var developer = await Accounts.CreateUserAsync(_w.World.Owner, "developer@example.com", _w.World.OrgId, "developer");
        var admin = await Accounts.CreateUserAsync(_w.World.Owner, "admin@example.com", _w.World.OrgId, "admin");
        var outsider = await Accounts.CreateUserAsync(_w.World.Owner, "outsider@example.com");

        Task<string> CancelAsync(Guid user, Guid task) => _w.World.Database.AsUserAsync(user, (c, tx) =>
            c.QuerySingleAsync<string>("select status from ops.cancel_runner_task(@task, '192.0.2.7')", new { task }, tx));

        // A restore into production is an admin's to ask for, and so to cancel; someone else's project is not found.
        var refused = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => CancelAsync(developer, restore));
        Assert.Equal(("42501", "Cancelling a restore task of the production branch main needs the admin role or higher; you are developer."),
            (refused.SqlState, refused.MessageText));
        Assert.Equal("P0002", (await Assert.ThrowsAsync<Npgsql.PostgresException>(() => CancelAsync(outsider, restore))).SqlState);
        Assert.Equal("cancelled", await CancelAsync(admin, restore));
        // Ended already: nothing to cancel (and no second audit row).
        Assert.Equal("55000", (await Assert.ThrowsAsync<Npgsql.PostgresException>(() => CancelAsync(admin, restore))).SqlState);

        // A running backup of production: only who may take one (an admin) may stop it; the runner hears it at its
        // heartbeat, gives up, and the task ends cancelled, its backup failed.
        var backup = await _w.BackupAsync();
        var task = await _w.TaskAsync("backup", backup);
        var leased = Assert.Single(await _w.SyncAsync(host));
        Assert.Equal("42501", (await Assert.ThrowsAsync<Npgsql.PostgresException>(() => CancelAsync(tester, task))).SqlState);
        Assert.Equal("42501", (await Assert.ThrowsAsync<Npgsql.PostgresException>(() => CancelAsync(developer, task))).SqlState);
        Assert.Equal("running", await CancelAsync(admin, task));
        Assert.Equal("running", await CancelAsync(admin, task)); // asked again: unchanged, not audited twice
        using (var extended = await _w.PostAsync(host, TaskExtend(task), new TaskExtendRequest(leased.LeaseId)))
            Assert.True((await extended.Content.ReadFromJsonAsync<Extended>(Json))!.CancelRequested);
        Assert.Equal(HttpStatusCode.NoContent, await _w.DoneAsync(host, leased, "failed", "stopped on request"));
        Assert.Equal("cancelled", (await _w.TaskRowAsync(task)).Status);
        Assert.Equal(("failed", "stopped on request"), ((await _w.BackupRowAsync(backup)).Status, (await _w.BackupRowAsync(backup)).Reason));

        var audit = await _w.ScalarAsync<int>("select count(*) from ops.audit_log where action = 'runner_task.cancel' and ip = '192.0.2.7'");
        Assert.Equal(2, audit);
    }
}
