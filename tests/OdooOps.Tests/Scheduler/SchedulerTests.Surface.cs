using OdooOps.Metrics;
using System.Net;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OdooOps.Cli;
using OdooOps.Database;
using OdooOps.Scheduler;
using OdooOps.Server;
using OdooOps.Tests.Cli;
using OdooOps.Tests.Infrastructure;
using OdooOps.Cli.Doctor;

namespace OdooOps.Tests.Scheduler;

/// <summary>What operators see of the scheduler: start-up refusals, the jobs API, the doctor row, the database grants.</summary>
public sealed partial class SchedulerTests
{
    [Fact]
    public async Task Serve_refuses_to_start_on_an_invalid_cron_with_one_line_naming_the_key()
    {
        var db = await NewDatabaseAsync("schedcron");
        using var sandbox = new CliSandbox();
        var r = await sandbox.RunAsync(
            ["serve", "--urls", "http://127.0.0.1:0", "--data-dir", Path.Combine(sandbox.Home, "data"), "--database-url", CliSandbox.Url(db.Owner)],
            new Dictionary<string, string> { ["OPS_JOB_retention"] = "61 * * * *" });

        Assert.Equal(1, r.ExitCode);
        var line = Assert.Single(r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: OPS_JOB_retention: '61 * * * *' is not a valid cron expression", line);
        Assert.DoesNotContain("listening", r.Output);
    }

    [Theory]
    [InlineData("OPS_JOB_partition_maintenance", "every hour")]
    [InlineData("OPS_JOB_partition_maintenance", "0 * * * * * *")]
    [InlineData(MetricRetention.RawKey, "two weeks")]
    [InlineData(MetricRetention.RawKey, "0")]
    [InlineData(MetricRetention.MinuteKey, "-5")]
    [InlineData(MetricRetention.HourKey, "1.5")]
    public async Task The_server_is_not_built_with_a_bad_scheduler_setting(string key, string value)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build();
        await using var database = OpsDatabase.Create((await NewDatabaseAsync("schedbad")).Credentials);
        var e = Assert.Throws<InvalidOperationException>(() => ServerApp.Build("http://127.0.0.1:0", config, database, TestHosts.Secrets));
        Assert.StartsWith($"{key}: '{value}'", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Cron_from_configuration_replaces_the_default_and_is_read_in_utc()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["OPS_JOB_retention"] = "15 4 * * MON" }).Build();
        var schedule = JobSchedule.Build(OdooOps.Server.ServerApp.Jobs, config);
        Assert.Equal(("0 * * * *", "15 4 * * MON"), (schedule.Find("partition_maintenance")!.Cron, schedule.Find("retention")!.Cron));
        // Friday 2031-05-09 → Monday 2031-05-12 04:15 UTC.
        Assert.Equal(new DateTimeOffset(2031, 5, 12, 4, 15, 0, TimeSpan.Zero), schedule.Find("retention")!.NextAfter(new DateTimeOffset(2031, 5, 9, 23, 0, 0, TimeSpan.FromHours(-5))));
    }

    [Fact]
    public async Task Jobs_api_refuses_non_admins_and_shows_jobs_and_runs_to_a_system_admin()
    {
        await using var factory = await OdooOpsFactory.CreateAsync(cluster, "schedapi");
        var org = await Accounts.CreateOrgAsync(factory.Owner, "jobs-org");
        var ownerToken = await Accounts.CreateTokenAsync(factory.Owner, await Accounts.CreateUserAsync(factory.Owner, "owner@jobs.test", org, "owner"));
        var adminId = await Accounts.CreateUserAsync(factory.Owner, "root@jobs.test");
        await using (var conn = await Accounts.OpenAsync(factory.Owner))
            await conn.ExecuteAsync("update registry.users set is_system_admin = true where id = @adminId", new { adminId });
        var adminToken = await Accounts.CreateTokenAsync(factory.Owner, adminId, "read");

        // A tick of the server's own scheduler, long before any tick its clock would reach during the test.
        var tick = new DateTimeOffset(2001, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var ran = await factory.Services.GetRequiredService<SchedulerService>().RunTickAsync("partition_maintenance", tick);
        Assert.Equal(SchedulerService.TickOutcome.Success, ran.Outcome);

        using var owner = factory.CreateClient().WithToken(ownerToken);
        foreach (var path in new[] { "/api/ops/jobs", "/api/ops/jobs/runs" })
        {
            var refused = await owner.GetAsync(path);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.Contains("system administrators", await refused.Content.ReadAsStringAsync());
            Assert.Equal(HttpStatusCode.Unauthorized, (await factory.CreateClient().GetAsync(path)).StatusCode);
        }

        using var admin = factory.CreateClient().WithToken(adminToken);
        using var jobs = JsonDocument.Parse(await admin.GetStringAsync("/api/ops/jobs"));
        var list = jobs.RootElement.GetProperty("jobs").EnumerateArray().ToDictionary(j => j.GetProperty("name").GetString()!);
        Assert.Equal(["advisory_scan", "backup_retention", "backup_schedule", "build_log_retention", "instance_log_retention", "notification_retention", "partition_maintenance", "retention", "rollups", "runner_rescue", "webhook_deliveries"], list.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("0 * * * *", list["partition_maintenance"].GetProperty("cron").GetString());
        var next = list["partition_maintenance"].GetProperty("next_run_at").GetDateTimeOffset();
        Assert.True(next > DateTimeOffset.UtcNow && next <= DateTimeOffset.UtcNow.AddHours(1) && next is { Minute: 0, Second: 0 }, $"next_run_at {next:O}");
        var last = list["partition_maintenance"].GetProperty("last_run");
        Assert.Equal("success", last.GetProperty("outcome").GetString());
        Assert.EndsWith($":{Environment.ProcessId}", last.GetProperty("node").GetString());
        Assert.Equal(JsonValueKind.Null, list["retention"].GetProperty("last_run").ValueKind);
        Assert.Equal("* * * * *", list["rollups"].GetProperty("cron").GetString());

        using var runs = JsonDocument.Parse(await admin.GetStringAsync("/api/ops/jobs/runs?job=partition_maintenance&limit=5"));
        var run = Assert.Single(runs.RootElement.GetProperty("runs").EnumerateArray(), r => r.GetProperty("scheduled_for").GetDateTimeOffset() == tick);
        Assert.Equal(("partition_maintenance", "success"), (run.GetProperty("job").GetString(), run.GetProperty("outcome").GetString()));
        Assert.Matches(@"^\d+ partition\(s\) created; \d{4}-\d\d-\d\d\.\.\d{4}-\d\d-\d\d present$", run.GetProperty("detail").GetString());
        Assert.Empty((JsonDocument.Parse(await admin.GetStringAsync("/api/ops/jobs/runs?job=retention"))).RootElement.GetProperty("runs").EnumerateArray());
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync("/api/ops/jobs/runs?limit=0")).StatusCode);
    }

    [Fact]
    public async Task Doctor_row_passes_until_a_jobs_last_run_failed_and_names_that_job()
    {
        var db = await NewDatabaseAsync("scheddoctor");
        var owner = db.Owner.ConnectionString;
        var fresh = await DoctorChecks.ScheduledJobsRowAsync(owner, CancellationToken.None);
        Assert.Equal((DoctorChecks.Outcome.Pass, "advisory_scan not run yet, backup_retention not run yet, backup_schedule not run yet, build_log_retention not run yet, instance_log_retention not run yet, notification_retention not run yet, partition_maintenance not run yet, retention not run yet, rollups not run yet, runner_rescue not run yet, webhook_deliveries not run yet"), (fresh.Outcome, fresh.Detail));

        var clock = new ManualClock(TenOClock);
        var broken = new ScheduledJob("retention", "0 * * * *", (_, _) => throw new InvalidOperationException("retention exploded"));
        await using (var node = new SchedulerNode(db.Credentials, clock, [MetricJobs.PartitionMaintenance, broken]))
            await node.Scheduler.RunDueAsync(TenOClock);
        var failing = await DoctorChecks.ScheduledJobsRowAsync(owner, CancellationToken.None);
        Assert.Equal(DoctorChecks.Outcome.Fail, failing.Outcome);
        Assert.Matches("^retention failed at .*: retention exploded$", failing.Detail);

        await using (var node = new SchedulerNode(db.Credentials, clock, [MetricJobs.PartitionMaintenance, MetricJobs.Retention]))
            await node.Scheduler.RunDueAsync(new DateTimeOffset(2031, 5, 11, 3, 30, 0, TimeSpan.Zero)); // retention's default tick
        var healed = await DoctorChecks.ScheduledJobsRowAsync(owner, CancellationToken.None);
        Assert.Equal((DoctorChecks.Outcome.Pass, "advisory_scan not run yet, backup_retention not run yet, backup_schedule not run yet, build_log_retention not run yet, instance_log_retention not run yet, notification_retention not run yet, partition_maintenance success, retention success, rollups not run yet, runner_rescue not run yet, webhook_deliveries not run yet"), (healed.Outcome, healed.Detail));
    }

    [Fact]
    public async Task Job_run_functions_are_for_ops_service_only_and_db_verify_stays_green()
    {
        var db = await NewDatabaseAsync("schedgrants");
        await using var app = new NpgsqlConnection(db.Credentials.App.ConnectionString);
        await app.OpenAsync();
        foreach (var sql in new[] { "select ops.start_job_run('x', 'n', now())", "select ops.finish_job_run(1, 'success', '')" })
            Assert.Equal("42501", (await Assert.ThrowsAsync<PostgresException>(() => app.ExecuteScalarAsync(sql))).SqlState);

        await using var service = new NpgsqlConnection(db.Credentials.Service.ConnectionString);
        await service.OpenAsync();
        Assert.Equal("42501", (await Assert.ThrowsAsync<PostgresException>(() => service.ExecuteScalarAsync("select count(*) from ops.job_runs"))).SqlState);
        Assert.Equal("22023", (await Assert.ThrowsAsync<PostgresException>(() => service.ExecuteScalarAsync("select ops.start_job_run('Bad Name', 'n', now())"))).SqlState);

        var checks = await DbVerifier.RunAsync(db.Owner.ConnectionString);
        Assert.All(checks, c => Assert.True(c.Passed, $"{c.Name}: {c.Detail}"));
    }
}
