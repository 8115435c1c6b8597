using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OdooOps.Backups;
using OdooOps.Backups.Storage;
using OdooOps.Database;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Scheduler;
using static OdooOps.Scheduler.SchedulerService;

namespace OdooOps.Tests.Backups;

/// <summary>
/// The backup_retention job on a test clock over generated histories: of 120 days of daily backups exactly the newest
/// good one of each of the newest 7 days, 4 ISO weeks and 3 calendar months stay (a project's own 2/1/1 too); the
/// branch's newest verified backup stays however old; manual, imported, pre-deploy and pre-restore backups stay their
/// days; a backup a task still uses and one still being taken stay; every pruned file is deleted from the real folder
/// storage (the kept ones' files stay), and one the storage could not delete fails the run and is deleted at the next.
/// </summary>
public sealed class BackupRetentionTests(PostgresCluster cluster)
{
    static readonly DateTimeOffset Now = new(2031, 5, 10, 3, 50, 0, TimeSpan.Zero);

    sealed record World(Npgsql.NpgsqlConnectionStringBuilder Owner, LoginRoles.Credentials Credentials, Guid Org, string DataDir)
    {
        public string Folder => Path.Combine(DataDir, "store");

        public bool Stored(string key) => File.Exists(Path.Combine(Folder, key));

        public async Task<(Guid Project, Guid Main)> ProjectAsync(string slug)
        {
            var project = await Accounts.CreateProjectAsync(Owner, Org, slug);
            await using var conn = await Accounts.OpenAsync(Owner);
            return (project, await conn.ExecuteScalarAsync<Guid>("select id from ops.branches where project_id = @project and name = 'main'", new { project }));
        }
    }

    async Task<World> WorldAsync()
    {
        var owner = await cluster.CreateDatabaseAsync("bkret");
        return new World(owner, await LoginRoles.EnsureAsync(owner), await Accounts.CreateOrgAsync(owner, "ret"),
            Path.Combine(Path.GetTempPath(), $"odooops-retention-{Guid.NewGuid():N}"));
    }

    /// <summary>A serve node with the real folder storage in the world's folder (as AddBackupStorage makes it).</summary>
    static SchedulerNode Node(World w, IDictionary<string, string?>? settings = null) =>
        new(w.Credentials, new ManualClock(Now), [BackupRetentionJob.Job],
            new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>()) { ["OPS_DATA_DIR"] = w.DataDir, ["OPS_BACKUP_STORAGE"] = w.Folder },
            s => s.AddSingleton(sp => new BackupStores(BackupStorageSettings.From(sp.GetRequiredService<IConfiguration>()))));

    /// <summary>One daily backup at 03:00 on each of the last <paramref name="days"/> days (today's included), oldest first,
    /// each with its zip in the folder storage.</summary>
    static async Task<List<(Guid Id, DateTime At, string Key)>> DailyHistoryAsync(World w, Guid branch, int days, string verification = "pending")
    {
        List<(Guid Id, DateTime At, string Key)> history;
        await using (var conn = await Accounts.OpenAsync(w.Owner))
            history = [.. await conn.QueryAsync<(Guid, DateTime, string)>("""
                insert into ops.backups (id, project_id, branch_id, kind, status, verification, scheduled_for, created_at, finished_at, storage, storage_key, size_bytes)
                select g.id, b.project_id, b.id, 'daily', 'succeeded', @verification, g.d::date, g.d, g.d + interval '10 minutes', 'local',
                       b.project_id || '/' || b.id || '/' || g.id || '.zip', 4
                  from ops.branches b, (select gen_random_uuid() as id, d from generate_series(@first, @last, interval '1 day') d) g
                 where b.id = @branch
                returning id, created_at, storage_key
                """, new { branch, verification, first = Now.Date.AddDays(1 - days).AddHours(3), last = Now.Date.AddHours(3) })];
        var storage = new FolderBackupStorage(w.Folder);
        foreach (var h in history) await storage.PutAsync(h.Key, new MemoryStream("PK\u0003\u0004"u8.ToArray()), 100, CancellationToken.None);
        return history;
    }

    /// <summary>What the rule keeps, worked out here from the history: each period's newest, for the newest N periods.</summary>
    static HashSet<Guid> Expected(IReadOnlyList<(Guid Id, DateTime At, string Key)> history, int daily, int weekly, int monthly)
    {
        IEnumerable<Guid> Newest<TKey>(Func<DateTime, TKey> period, int count) => history
            .GroupBy(h => period(h.At)).OrderByDescending(g => g.Max(h => h.At)).Take(count).Select(g => g.MaxBy(h => h.At).Id);
        return [.. Newest(at => at.Date, daily), .. Newest(at => at.Date.AddDays(-(((int)at.DayOfWeek + 6) % 7)), weekly),
                .. Newest(at => (at.Year, at.Month), monthly)];
    }

    static async Task<HashSet<Guid>> KeptAsync(World w, Guid branch)
    {
        await using var conn = await Accounts.OpenAsync(w.Owner);
        return [.. await conn.QueryAsync<Guid>("select id from ops.backups where branch_id = @branch and deleted_at is null", new { branch })];
    }

    [Fact]
    public async Task A_120_day_history_keeps_exactly_7_daily_4_weekly_and_3_monthly_and_deletes_the_other_files()
    {
        var w = await WorldAsync();
        var (_, main) = await w.ProjectAsync("erp");
        var (small, smallMain) = await w.ProjectAsync("small");
        await using (var conn = await Accounts.OpenAsync(w.Owner))
            await conn.ExecuteAsync("update ops.projects set backup_keep_daily = 2, backup_keep_weekly = 1, backup_keep_monthly = 1 where id = @small", new { small });
        var history = await DailyHistoryAsync(w, main, 120);
        var smallHistory = await DailyHistoryAsync(w, smallMain, 120);
        await using var node = Node(w);
        var run = await node.Scheduler.RunTickAsync("backup_retention", Now);
        Assert.Equal(TickOutcome.Success, run.Outcome);

        var kept = await KeptAsync(w, main);
        var expected = Expected(history, 7, 4, 3);
        Assert.Equal(expected.Order(), kept.Order());
        // 7 days, of which this ISO week's newest is today's; 3 earlier weeks; 3 months of which May's is today's and
        // April's the last of April (not the weekly one of that week, unless it is): 7 + 3 + 2 at most, here exactly.
        var newest = history.Where(h => kept.Contains(h.Id)).Select(h => h.At).OrderDescending().ToList();
        Assert.Equal([.. Enumerable.Range(0, 7).Select(d => Now.Date.AddHours(3).AddDays(-d))], newest.Take(7));
        Assert.All(newest.Skip(7).Zip(newest.Skip(8)), p => Assert.NotEqual(Week(p.First), Week(p.Second)));
        Assert.Equal(Expected(smallHistory, 2, 1, 1).Order(), (await KeptAsync(w, smallMain)).Order());

        var keptSmall = await KeptAsync(w, smallMain);
        var pruned = history.Count(h => !kept.Contains(h.Id)) + smallHistory.Count(h => !keptSmall.Contains(h.Id));
        Assert.Equal($"{pruned} backup(s) pruned, {pruned} file(s) deleted", run.Detail);
        // The kept ones' zips are still there; every pruned one's is gone from the folder.
        Assert.All(history.Concat(smallHistory), h => Assert.Equal(kept.Contains(h.Id) || keptSmall.Contains(h.Id), w.Stored(h.Key)));
        await using (var conn = await Accounts.OpenAsync(w.Owner))
        {
            Assert.Equal(0L, await conn.ExecuteScalarAsync<long>("select count(*) from ops.backups where deleted_at is not null and file_deleted_at is null"));
            Assert.Equal(Now.UtcDateTime, await conn.ExecuteScalarAsync<DateTime>("select max(deleted_at) from ops.backups"));
        }

        var again = await node.Scheduler.RunTickAsync("backup_retention", Now.AddHours(1));
        Assert.Equal("0 backup(s) pruned, 0 file(s) deleted", again.Detail);
    }

    static DateTime Week(DateTime at) => at.Date.AddDays(-(((int)at.DayOfWeek + 6) % 7));

    [Fact]
    public async Task The_newest_verified_backup_of_a_branch_is_never_pruned_however_old()
    {
        var w = await WorldAsync();
        var (_, main) = await w.ProjectAsync("erp");
        var (_, other) = await w.ProjectAsync("crm");
        var (_, third) = await w.ProjectAsync("ops");
        static TimeSpan DaysAgo(double d) => DateTime.UtcNow - Now.UtcDateTime.AddDays(-d);
        // main: 120 days of daily backups no runner has verified yet fill every period; the last proven one is 200 days old.
        var unproven = await DailyHistoryAsync(w, main, 120);
        var proven = await BackupRows.InsertAsync(w.Owner, main, new(Kind: "daily", Verification: "verified", Age: DaysAgo(200)));
        var olderProven = await BackupRows.InsertAsync(w.Owner, main, new(Kind: "daily", Verification: "verified", Age: DaysAgo(230)));
        // other: its newest verified backup is a manual one of 100 days ago (manual ones are otherwise kept 30 days).
        var manual = await BackupRows.InsertAsync(w.Owner, other, new(Kind: "manual", Verification: "verified", Age: DaysAgo(100)));
        var olderManual = await BackupRows.InsertAsync(w.Owner, other, new(Kind: "manual", Verification: "verified", Age: DaysAgo(110)));
        // third: 20 days of daily backups that failed verification: none is good, so no period keeps one; each goes
        // after backup_keep_daily (7) days.
        var broken = await DailyHistoryAsync(w, third, 20, verification: "failed");

        await using var node = Node(w);
        Assert.Equal(TickOutcome.Success, (await node.Scheduler.RunTickAsync("backup_retention", Now)).Outcome);

        Assert.Equal(new HashSet<Guid>([.. Expected(unproven, 7, 4, 3), proven]).Order(), (await KeptAsync(w, main)).Order());
        Assert.DoesNotContain(olderProven, await KeptAsync(w, main));
        Assert.Equal([manual], await KeptAsync(w, other));
        Assert.DoesNotContain(olderManual, await KeptAsync(w, other));
        Assert.Equal(broken.Where(b => b.At > Now.UtcDateTime.AddDays(-7)).Select(b => b.Id).Order(), (await KeptAsync(w, third)).Order());
    }

    [Fact]
    public async Task Manual_imported_and_safety_backups_stay_their_days_and_busy_or_unfinished_ones_stay()
    {
        var w = await WorldAsync();
        var (project, main) = await w.ProjectAsync("erp");
        TimeSpan Days(double d) => DateTime.UtcNow - Now.UtcDateTime.AddDays(-d);
        var ids = new Dictionary<string, Guid>
        {
            ["manual 29"] = await BackupRows.InsertAsync(w.Owner, main, new(Kind: "manual", Age: Days(29))),
            ["manual 31"] = await BackupRows.InsertAsync(w.Owner, main, new(Kind: "manual", Age: Days(31))),
            ["import 31"] = await BackupRows.InsertAsync(w.Owner, main, new(Kind: "import", Age: Days(31))),
            ["pre-deploy 9"] = await BackupRows.InsertAsync(w.Owner, main, new(Kind: "pre-deploy", Age: Days(9))),
            ["pre-deploy 11"] = await BackupRows.InsertAsync(w.Owner, main, new(Kind: "pre-deploy", Age: Days(11))),
            ["pre-restore 11"] = await BackupRows.InsertAsync(w.Owner, main, new(Kind: "pre-restore", Age: Days(11))),
            ["failed daily 8"] = await BackupRows.InsertAsync(w.Owner, main, new(Kind: "daily", Status: "failed", Reason: "disk full", Age: Days(8))),
            ["failed daily 6"] = await BackupRows.InsertAsync(w.Owner, main, new(Kind: "daily", Status: "failed", Reason: "disk full", Age: Days(6))),
            ["pending manual 90"] = await BackupRows.InsertAsync(w.Owner, main, new(Kind: "manual", Status: "pending", Age: Days(90))),
            ["busy manual 90"] = await BackupRows.InsertAsync(w.Owner, main, new(Kind: "manual", Age: Days(90))),
        };
        await using (var conn = await Accounts.OpenAsync(w.Owner))
            await conn.ExecuteAsync("""
                insert into ops.runner_tasks (project_id, branch_id, kind, backup_id, status) values (@project, @main, 'restore', @busy, 'running');
                insert into ops.backups (project_id, branch_id, kind, status, started_at, created_at)
                values (@project, @main, 'import', 'running', @started, @started);
                """, new { project, main, busy = ids["busy manual 90"], started = Now.AddDays(-2) });
        await using var node = Node(w, new Dictionary<string, string?> { [BackupRetentionJob.SafetyKeepKey] = "10" });
        var run = await node.Scheduler.RunTickAsync("backup_retention", Now);
        Assert.Equal(TickOutcome.Success, run.Outcome);

        var kept = await KeptAsync(w, main);
        var keptNames = ids.Where(i => kept.Contains(i.Value)).Select(i => i.Key).Order().ToList();
        Assert.Equal(["busy manual 90", "failed daily 6", "manual 29", "pending manual 90", "pre-deploy 9"], keptNames);
        // The failed daily backup had no file: marked deleted with nothing to delete; four files went.
        Assert.Equal("5 backup(s) pruned, 4 file(s) deleted", run.Detail);
        await using var check = await Accounts.OpenAsync(w.Owner);
        Assert.Equal("failed: The upload did not finish: the connection broke or the server stopped while it was stored.",
            await check.ExecuteScalarAsync<string>("select status || ': ' || reason from ops.backups where kind = 'import' and storage_key is null"));
    }

    [Fact]
    public async Task A_file_the_storage_cannot_delete_fails_the_run_and_is_deleted_at_the_next()
    {
        var w = await WorldAsync();
        var (project, main) = await w.ProjectAsync("erp");
        // Stored in a bucket, and the server no longer names one (OPS_BACKUP_STORAGE moved back to a folder): the storage
        // cannot delete it.
        var old = await BackupRows.InsertAsync(w.Owner, main, new(Kind: "manual", Age: DateTime.UtcNow - Now.UtcDateTime.AddDays(-40)));
        var key = BackupKeys.For(project, main, old);
        await BackupRows.StoreAsync(w.Folder, project, main, old, "PK\u0003\u0004"u8.ToArray());
        await using (var conn = await Accounts.OpenAsync(w.Owner))
            await conn.ExecuteAsync("update ops.backups set storage = 's3' where id = @old", new { old });

        await using var node = Node(w);
        var failed = await node.Scheduler.RunTickAsync("backup_retention", Now);
        Assert.Equal(TickOutcome.Failed, failed.Outcome);
        Assert.Equal($"1 backup(s) pruned, 0 file(s) deleted; 1 file(s) could not be deleted and are tried again next run: {key}: " +
                     "This backup is in a bucket, but OPS_BACKUP_STORAGE names no bucket now.", failed.Detail);
        await using (var conn = await Accounts.OpenAsync(w.Owner))
        {
            Assert.Equal((true, false), await conn.QuerySingleAsync<(bool, bool)>(
                "select deleted_at is not null, file_deleted_at is not null from ops.backups where id = @old", new { old }));
            await conn.ExecuteAsync("update ops.backups set storage = 'local' where id = @old", new { old }); // the operator moves it back
        }
        Assert.True(w.Stored(key));

        var next = await node.Scheduler.RunTickAsync("backup_retention", Now.AddHours(1));
        Assert.Equal((TickOutcome.Success, "0 backup(s) pruned, 1 file(s) deleted"), (next.Outcome, next.Detail));
        Assert.False(w.Stored(key));
    }
}
