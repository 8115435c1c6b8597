using Dapper;
using Npgsql;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Notifications;

/// <summary>
/// An announcement never breaks the write that causes it: the source tables' triggers run inside a build's end, a
/// release, a backup, an advisory scan. A field the triggers do not expect to be empty is filled in; an outbox write that
/// fails all the same is dropped with a WARNING, and the source row commits. Each test has a database of its own, whose
/// schema it bends to make the unexpected happen.
/// </summary>
public sealed class NotificationTriggerSafetyTests(PostgresCluster cluster) : IAsyncLifetime
{
    NotificationBench _b = null!;

    public async ValueTask InitializeAsync() => _b = await NotificationBench.StartAsync(cluster);

    public async ValueTask DisposeAsync() => await _b.DisposeAsync();

    [Fact]
    public async Task An_advisory_with_a_null_title_still_commits_and_is_announced_with_a_summary_filled_in()
    {
        await _b.ChannelAsync("https://hooks.example.com/adv", "advisories", ["advisory.opened"]);
        await _b.ExecuteAsync("alter table ops.advisories alter column title drop not null"); // a NULL the triggers were not written for
        var advisory = await _b.ScalarAsync<Guid>("""
            insert into ops.advisories (project_id, rule, fingerprint, severity, title, detail, remediation)
            values (@Project, 'odd_rule', 'odd_rule:1', 'warning', null, 'd', 'r') returning id
            """, new { _b.Project });
        Assert.Equal(1L, await _b.ScalarAsync<long>("select count(*) from ops.advisories where id = @advisory", new { advisory }));
        Assert.Equal("Project erp: warning: odd_rule", await _b.ScalarAsync<string>("select summary from ops.notification_deliveries"));
    }

    [Fact]
    public async Task A_build_whose_announcement_cannot_be_written_still_ends_and_the_failure_is_a_warning()
    {
        await _b.ChannelAsync("https://hooks.example.com/builds", "builds", ["build.failed"]);
        // Whatever might make the outbox refuse a row one day: here, a constraint the event breaks.
        await _b.ExecuteAsync("alter table ops_private.notification_events add constraint no_boom check (summary not like '%boom%')");
        await using var conn = await Accounts.OpenAsync(_b.Owner);
        var warnings = new List<PostgresNotice>();
        conn.Notice += (_, e) => warnings.Add(e.Notice);
        var build = await conn.ExecuteScalarAsync<Guid>("""
            insert into ops.builds (project_id, branch_id, status, trigger, commit_sha)
            select project_id, id, 'queued', 'push', 'abcdef0123456789' from ops.branches where project_id = @Project and name = 'main' returning id
            """, new { _b.Project });
        await conn.ExecuteAsync("update ops.builds set status = 'failed', result_detail = 'boom', finished_at = now() where id = @build", new { build });

        Assert.Equal("failed", await _b.ScalarAsync<string>("select status from ops.builds where id = @build", new { build }));
        Assert.Equal(0L, await _b.ScalarAsync<long>("select count(*) from ops_private.notification_events"));
        Assert.Equal(0L, await _b.ScalarAsync<long>("select count(*) from ops.notification_deliveries"));
        var warning = Assert.Single(warnings, w => w.Severity == "WARNING");
        Assert.Contains("the build.failed notification of project", warning.MessageText);
        Assert.Contains("no_boom", warning.MessageText);
    }

    [Fact]
    public async Task A_runner_sync_whose_down_state_cannot_be_written_still_commits_the_instances_state()
    {
        var runner = await Deployments.DeploymentRows.RunnerAsync(_b.Owner, _b.Org, "host-1");
        var release = await Deployments.DeploymentRows.ReleaseAsync(_b.Owner, _b.Project, "main", runner);
        await _b.ExecuteAsync("alter table ops_private.notification_down_branches add constraint no_unhealthy check (state <> 'unhealthy')");
        await using var conn = await Accounts.OpenAsync(_b.Owner);
        var warnings = new List<PostgresNotice>();
        conn.Notice += (_, e) => warnings.Add(e.Notice);
        await conn.ExecuteAsync("select count(*) from ops.sync_runner_instances(@runner, null, @reports::jsonb)", new
        {
            runner, reports = System.Text.Json.JsonSerializer.Serialize(new[] { new { instance_id = release.InstanceId, state = "unhealthy", reason = "down" } }),
        });
        Assert.Equal("unhealthy", await _b.ScalarAsync<string>("select state from ops.instances where id = @InstanceId", new { release.InstanceId }));
        Assert.Contains(warnings, w => w.Severity == "WARNING" && w.MessageText.Contains("no_unhealthy"));
    }
}
