using Dapper;
using OdooOps.Backups;
using OdooOps.Database;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Scheduler;
using static OdooOps.Scheduler.SchedulerService;

namespace OdooOps.Tests.Backups;

/// <summary>
/// The backup_schedule job on a test clock: each production branch with a current instance and a host gets exactly one
/// daily backup per day at its project's backup_time (UTC), with a backup task on its host — not before the time, not
/// twice after a restart, not twice when two serve nodes run the job at once, and a late server catches up; staging,
/// branches without an instance and archived projects get none.
/// </summary>
public sealed class BackupScheduleTests(PostgresCluster cluster)
{
    static readonly DateTimeOffset Day = new(2031, 5, 10, 0, 0, 0, TimeSpan.Zero);

    sealed record World(Npgsql.NpgsqlConnectionStringBuilder Owner, LoginRoles.Credentials Credentials, Guid Early, Guid Late, Guid EarlyMain, Guid LateMain);

    async Task<World> WorldAsync()
    {
        var owner = await cluster.CreateDatabaseAsync("bksched");
        var credentials = await LoginRoles.EnsureAsync(owner);
        var org = await Accounts.CreateOrgAsync(owner, "sched");
        var early = await Accounts.CreateProjectAsync(owner, org, "early");     // backup_time 03:00 (the default)
        var late = await Accounts.CreateProjectAsync(owner, org, "late");       // 22:30
        var bare = await Accounts.CreateProjectAsync(owner, org, "bare");       // production without an instance
        var gone = await Accounts.CreateProjectAsync(owner, org, "gone");       // archived
        foreach (var p in new[] { early, late, gone }) await BackupRows.HostAsync(owner, p, "main");
        await BackupRows.HostAsync(owner, early, "staging");
        await using var conn = await Accounts.OpenAsync(owner);
        await conn.ExecuteAsync("""
            update ops.projects set backup_time = '22:30' where id = @late;
            update ops.projects set archived_at = now() where id = @gone;
            """, new { late, gone, bare });
        // Yesterday's backups were taken: the first ticks below have nothing to catch up on.
        foreach (var p in new[] { early, late })
            await conn.ExecuteAsync("""
                insert into ops.backups (project_id, branch_id, kind, status, scheduled_for, created_at)
                select project_id, id, 'daily', 'succeeded', date '2031-05-09', now() from ops.branches where project_id = @p and name = 'main'
                """, new { p });
        Guid Main(Guid p) => conn.ExecuteScalar<Guid>("select id from ops.branches where project_id = @p and name = 'main'", new { p });
        return new World(owner, credentials, early, late, Main(early), Main(late));
    }

    static async Task<List<(Guid Branch, DateTime Day)>> DailiesAsync(World w)
    {
        await using var conn = await Accounts.OpenAsync(w.Owner);
        return [.. await conn.QueryAsync<(Guid, DateTime)>(
            "select branch_id, scheduled_for from ops.backups where kind = 'daily' and scheduled_for > date '2031-05-09' order by scheduled_for, branch_id")];
    }

    /// <summary>A serve node whose clock reads each tick's time when it runs the tick (the job reads the clock, not the tick).</summary>
    sealed class Node : IAsyncDisposable
    {
        readonly ManualClock _clock = new(Day);
        readonly SchedulerNode _node;

        public Node(World w) => _node = new(w.Credentials, _clock, [BackupScheduleJob.Job]);

        public Task<TickResult> TickAsync(DateTimeOffset at)
        {
            _clock.SetTo(at);
            return _node.Scheduler.RunTickAsync("backup_schedule", at);
        }

        public ValueTask DisposeAsync() => _node.DisposeAsync();
    }

    [Fact]
    public async Task One_daily_backup_per_production_branch_per_day_at_its_backup_time_with_a_task_on_its_host()
    {
        var w = await WorldAsync();
        await using (var node = new Node(w))
        {
            Assert.Equal("0 daily backup(s) queued", (await node.TickAsync(Day.AddHours(2).AddMinutes(55))).Detail);
            var due = await node.TickAsync(Day.AddHours(3));
            Assert.Equal((TickOutcome.Success, "1 daily backup(s) queued"), (due.Outcome, due.Detail));
            Assert.Equal("0 daily backup(s) queued", (await node.TickAsync(Day.AddHours(3).AddMinutes(5))).Detail);
        }
        Assert.Equal([(w.EarlyMain, Day.UtcDateTime)], await DailiesAsync(w));

        // A restarted server (a new node) queues nothing again; the evening slot of the other project comes at 22:30.
        await using (var node = new Node(w))
        {
            Assert.Equal("0 daily backup(s) queued", (await node.TickAsync(Day.AddHours(22).AddMinutes(25))).Detail);
            Assert.Equal("1 daily backup(s) queued", (await node.TickAsync(Day.AddHours(22).AddMinutes(30))).Detail);
        }
        // A server that was down all the next day catches up on the latest slot only, once.
        await using (var node = new Node(w))
        {
            Assert.Equal("2 daily backup(s) queued", (await node.TickAsync(Day.AddDays(2).AddHours(1))).Detail);
            Assert.Equal("0 daily backup(s) queued", (await node.TickAsync(Day.AddDays(2).AddHours(1).AddMinutes(5))).Detail);
        }
        Assert.Equal([(w.EarlyMain, Day.UtcDateTime), (w.LateMain, Day.UtcDateTime), (w.EarlyMain, Day.AddDays(1).UtcDateTime), (w.LateMain, Day.AddDays(1).UtcDateTime)],
            (await DailiesAsync(w)).OrderBy(d => d.Day).ThenBy(d => d.Branch == w.LateMain));

        await using var conn = await Accounts.OpenAsync(w.Owner);
        var tasks = (await conn.QueryAsync<(string Kind, string Status, bool OnHost)>("""
            select t.kind, t.status, t.runner_id = i.runner_id
              from ops.backups k join ops.runner_tasks t on t.backup_id = k.id
              join ops.instances i on i.branch_id = k.branch_id and i.is_current
             where k.kind = 'daily' and k.scheduled_for > date '2031-05-09'
            """)).ToList();
        Assert.Equal(4, tasks.Count);
        Assert.All(tasks, t => Assert.Equal(("backup", "queued", true), t));
    }

    [Fact]
    public async Task Two_nodes_running_the_schedule_at_once_queue_one_backup_per_branch()
    {
        var w = await WorldAsync();
        await using var a = new Node(w);
        await using var b = new Node(w);
        // Different ticks (the scheduler's own claim keeps one tick to one node): the database must still say once.
        for (var round = 0; round < 3; round++)
        {
            var results = await Task.WhenAll(
                a.TickAsync(Day.AddHours(23).AddMinutes(10 * round)),
                b.TickAsync(Day.AddHours(23).AddMinutes(10 * round + 5)));
            Assert.All(results, r => Assert.Equal(TickOutcome.Success, r.Outcome));
        }
        Assert.Equal(2, (await DailiesAsync(w)).Count);

        // And straight at the function, eight sessions at the same instant for the next day.
        var calls = Enumerable.Range(0, 8).Select(async _ =>
        {
            await using var conn = new Npgsql.NpgsqlConnection(w.Credentials.Service.ConnectionString);
            await conn.OpenAsync();
            return await conn.ExecuteScalarAsync<int>("select ops.queue_daily_backups(@now)", new { now = Day.AddDays(1).AddHours(23) });
        });
        Assert.Equal(2, (await Task.WhenAll(calls)).Sum());
        Assert.Equal(4, (await DailiesAsync(w)).Count);
    }
}
