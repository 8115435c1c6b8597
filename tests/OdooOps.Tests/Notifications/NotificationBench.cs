using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging.Abstractions;
using OdooOps.Audit;
using OdooOps.Database;
using OdooOps.Notifications;
using OdooOps.Notifications.Delivery;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Scheduler;

namespace OdooOps.Tests.Notifications;

/// <summary>
/// The delivery worker on its own, for one test (each makes its own: a worker claims whatever is due): a database of its own (no server, so nothing else delivers) with
/// organisation "acme", project "erp" and an admin, the channels' use case, and workers whose time is a manual clock —
/// retries and leases come due only when the test moves it, never by waiting.
/// </summary>
internal sealed class NotificationBench : IAsyncDisposable
{
    public const string Secret = "0123456789abcdef-secret";

    public static readonly NotificationSettings Settings = new(MaxAttempts: 4, FirstRetry: TimeSpan.FromSeconds(30), MaxRetry: TimeSpan.FromSeconds(100),
        FailingAfter: 3, Timeout: TimeSpan.FromSeconds(10), RetentionDays: 30, AllowPrivateTargets: true, Smtp: null, TestLimit: 50);

    public OpsDatabase Db { get; private set; } = null!;
    public Npgsql.NpgsqlConnectionStringBuilder Owner { get; private set; } = null!;
    public NotificationChannels Channels { get; private set; } = null!;
    public NotificationSecretProtector Protector { get; private set; } = null!;
    public ManualClock Clock { get; } = new(DateTimeOffset.UtcNow.AddMinutes(1));
    public Guid Org { get; private set; }
    public Guid Project { get; private set; }
    public Guid Admin { get; private set; }

    public static async Task<NotificationBench> StartAsync(PostgresCluster cluster)
    {
        var b = new NotificationBench { Owner = await cluster.CreateDatabaseAsync("notifybench") };
        b.Db = OpsDatabase.Create(await LoginRoles.EnsureAsync(b.Owner));
        b.Protector = new NotificationSecretProtector(new EphemeralDataProtectionProvider());
        b.Channels = new NotificationChannels(b.Db, b.Protector, Settings);
        b.Org = await Accounts.CreateOrgAsync(b.Owner, "acme");
        b.Project = await Accounts.CreateProjectAsync(b.Owner, b.Org, "erp");
        b.Admin = await Accounts.CreateUserAsync(b.Owner, "admin@acme.test", b.Org, "admin");
        return b;
    }

    public async ValueTask DisposeAsync() => await Db.DisposeAsync();

    public NotificationWorker Worker(NotificationSettings? settings = null, TimeProvider? clock = null)
    {
        var s = settings ?? Settings;
        return new(Db, new NotificationSender(s, Protector, new EmailSender(s), null, clock ?? Clock), s, clock ?? Clock,
            new PgNotifications(Db, NullLogger<PgNotifications>.Instance), NullLogger<NotificationWorker>.Instance);
    }

    public Actor Actor => Actor.User(Admin, null);

    /// <summary>A webhook channel to <paramref name="url"/>, signed with <paramref name="secret"/>, for these events (build.failed when none).</summary>
    public async Task<Guid> ChannelAsync(string url, string name, string[]? events = null, string secret = Secret)
    {
        var outcome = await Channels.SaveAsync(Actor, Org, null,
            new ChannelRequest(name, "webhook", url, secret, null, null, events ?? ["build.failed"], null, "info", null), CancellationToken.None);
        return Assert.IsType<NotificationChannels.Outcome.Done>(outcome).Channel.Id;
    }

    public Task<Guid> ChannelAsync(HookReceiver hooks, string name, string[]? events = null) => ChannelAsync(hooks.Url + "/in", name, events);

    public async Task<Guid> TestAsync(Guid channel) =>
        Assert.IsType<NotificationChannels.Outcome.Queued>(await Channels.TestAsync(Actor, Org, channel, CancellationToken.None)).Delivery.Id;

    public async Task<(string Status, int Attempts, int? Code, DateTime? Next)> RowAsync(Guid delivery)
    {
        await using var conn = await Accounts.OpenAsync(Owner);
        return await conn.QuerySingleAsync<(string, int, int?, DateTime?)>(
            "select status, attempts, response_code, next_attempt_at from ops.notification_deliveries where id = @delivery", new { delivery });
    }

    public async Task<string?> ErrorAsync(Guid delivery)
    {
        await using var conn = await Accounts.OpenAsync(Owner);
        return await conn.ExecuteScalarAsync<string?>("select error from ops.notification_deliveries where id = @delivery", new { delivery });
    }

    public async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var conn = await Accounts.OpenAsync(Owner);
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    public async Task ExecuteAsync(string sql, object? args = null)
    {
        await using var conn = await Accounts.OpenAsync(Owner);
        await conn.ExecuteAsync(sql, args);
    }

    /// <summary>Waits (generously) until a connection calling <paramref name="function"/> waits on a lock: the order of a race, without sleeps.</summary>
    public async Task WaitingOnALockAsync(string function)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await using var conn = await Accounts.OpenAsync(Owner);
        while (await conn.ExecuteScalarAsync<long>("""
                   select count(*) from pg_stat_activity
                    where datname = current_database() and wait_event_type = 'Lock' and query like '%' || @function || '%' and pid <> pg_backend_pid()
                   """, new { function }) == 0)
            await Task.Delay(20, deadline.Token);
    }

    public DateTime At(TimeSpan after) => (Clock.GetUtcNow() + after).UtcDateTime;
}
