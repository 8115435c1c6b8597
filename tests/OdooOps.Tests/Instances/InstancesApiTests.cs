using System.Net;
using System.Text.Json;
using Dapper;
using OdooOps.Tests.Api;
using OdooOps.Tests.Builds;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Instances;

/// <summary>/api/ops/projects/{id}/instances and /api/ops/instances/{id}[/start|stop|restart]: what is shown, roles by stage, tenants, retired instances, audit.</summary>
public sealed class InstancesApiTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(string? actor, HttpMethod method, string path)
    {
        var response = await world.Client(actor).SendAsync(new HttpRequestMessage(method, path));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string? actor, string path) => SendAsync(actor, HttpMethod.Post, path);
    Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(string? actor, string path) => SendAsync(actor, HttpMethod.Get, path);

    Task<T> ScalarAsync<T>(string sql, object args) => InstanceRows.ScalarAsync<T>(world.Factory.Owner, sql, args);

    Task<int> AuditCountAsync(Guid instance, string? action = null) =>
        ScalarAsync<int>("select count(*) from ops.audit_log where target_type = 'instance' and target_id = @id and (@action::text is null or action = @action)",
            new { id = instance.ToString(), action });

    Task<(string Desired, int Generation)> AskedAsync(Guid instance) =>
        InstanceRows.ScalarAsync<string>(world.Factory.Owner, "select desired || ':' || restart_generation from ops.instances where id = @instance", new { instance })
            .ContinueWith(t => (t.Result.Split(':')[0], int.Parse(t.Result.Split(':')[1])));

    async Task<(Guid Project, Guid Instance)> InstanceAsync(string branch, InstanceRows.Options? options = null)
    {
        var project = await world.NewProjectAsync(world.A);
        return (project, await InstanceRows.InsertAsync(world.Factory.Owner, project, branch, options));
    }

    [Fact]
    public async Task The_list_shows_each_instance_with_its_state_release_and_the_current_ones_url()
    {
        var project = await world.NewProjectAsync(world.A);
        var old = await InstanceRows.InsertAsync(world.Factory.Owner, project, "main", new(State: "stopped", Desired: "stopped", Current: false, Commit: "0dd0dd0dd"));
        var prod = await InstanceRows.InsertAsync(world.Factory.Owner, project, "main", new(Commit: "abcdef1234567890"));
        var feature = await InstanceRows.InsertAsync(world.Factory.Owner, project, "feature-x", new(State: "failed", Reason: "crashed 5 times in 10 minutes", Restarts: 5));
        var retired = await InstanceRows.InsertAsync(world.Factory.Owner, project, "staging", new(State: "stopped", Desired: "stopped", Current: false, Retired: true));
        var label = await ScalarAsync<string>("select host_label from ops.projects where id = @project", new { project });

        var (status, body) = await GetAsync("viewer", $"/api/ops/projects/{project}/instances");

        Assert.Equal(HttpStatusCode.OK, status);
        var list = body.GetProperty("instances").EnumerateArray().ToList();
        Assert.Equal([prod, old, feature], list.Select(i => i.GetProperty("id").GetGuid())); // production first, the current one first; retired left out
        var p = list[0];
        Assert.Equal(("main", "production", "running", "running", true), (p.GetProperty("branch").GetString(), p.GetProperty("stage").GetString(),
            p.GetProperty("state").GetString(), p.GetProperty("desired").GetString(), p.GetProperty("is_current").GetBoolean()));
        Assert.Equal($"http://main.{label}.localhost", p.GetProperty("url").GetString());
        Assert.Equal("abcdef1234567890", p.GetProperty("commit_sha").GetString());
        Assert.InRange(p.GetProperty("uptime_seconds").GetInt64(), 170, 3600);
        Assert.False(p.GetProperty("can_manage").GetBoolean()); // a viewer
        Assert.False(p.TryGetProperty("branch_host_label", out _));
        Assert.Equal(JsonValueKind.Null, list[1].GetProperty("url").ValueKind); // not current: its host name routes elsewhere
        Assert.Equal(("failed", "crashed 5 times in 10 minutes", 5), (list[2].GetProperty("state").GetString(), list[2].GetProperty("reason").GetString(), list[2].GetProperty("restarts").GetInt32()));
        Assert.Equal(JsonValueKind.Null, list[2].GetProperty("uptime_seconds").ValueKind);

        var all = (await GetAsync("viewer", $"/api/ops/projects/{project}/instances?include_retired=true")).Body.GetProperty("instances");
        Assert.Contains(all.EnumerateArray(), i => i.GetProperty("id").GetGuid() == retired && i.GetProperty("retired_at").ValueKind == JsonValueKind.String);

        var developer = (await GetAsync("developer", $"/api/ops/instances/{prod}")).Body;
        Assert.True(developer.GetProperty("can_manage").GetBoolean());
        Assert.Equal($"http://main.{label}.localhost", developer.GetProperty("url").GetString());
    }

    [Fact]
    public async Task The_branch_filter_takes_a_branch_of_the_project_and_names_the_field_otherwise()
    {
        var (project, instance) = await InstanceAsync("staging");
        await InstanceRows.InsertAsync(world.Factory.Owner, project, "main");
        var staging = await world.BranchAsync(project, "staging");

        var (status, body) = await GetAsync("viewer", $"/api/ops/projects/{project}/instances?branch_id={staging}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal([instance], body.GetProperty("instances").EnumerateArray().Select(i => i.GetProperty("id").GetGuid()));

        foreach (var bad in new[] { "nope", (await world.BranchAsync(world.B.ProjectId, "staging")).ToString() })
        {
            var refused = await GetAsync("viewer", $"/api/ops/projects/{project}/instances?branch_id={bad}");
            Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
            Assert.True(refused.Body.GetProperty("errors").TryGetProperty("branch_id", out _));
        }
    }

    [Fact]
    public async Task Another_tenants_instances_do_not_exist_for_the_caller()
    {
        var (project, instance) = await InstanceAsync("feature-x");
        await InstanceRows.AppendAsync(world.Factory.Owner, instance, ("INFO", "secret business"));

        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync("b-owner", $"/api/ops/projects/{project}/instances")).Status);
        foreach (var path in new[] { "", "/logs", "/logs/stream" })
            Assert.Equal(HttpStatusCode.NotFound, (await GetAsync("b-owner", $"/api/ops/instances/{instance}{path}")).Status);
        foreach (var action in new[] { "start", "stop", "restart" })
            Assert.Equal(HttpStatusCode.NotFound, (await PostAsync("b-owner", $"/api/ops/instances/{instance}/{action}")).Status);
        Assert.Equal(("running", 0), await AskedAsync(instance));
        Assert.Equal(0, await AuditCountAsync(instance));
    }

    [Theory]
    [InlineData("viewer", "feature-x", HttpStatusCode.Forbidden)]
    [InlineData("tester", "main", HttpStatusCode.Forbidden)]
    [InlineData("tester", "staging", HttpStatusCode.Accepted)]
    [InlineData("tester", "feature-x", HttpStatusCode.Accepted)]
    [InlineData("developer", "main", HttpStatusCode.Accepted)]
    [InlineData("admin", "main", HttpStatusCode.Accepted)]
    [InlineData(null, "feature-x", HttpStatusCode.Unauthorized)]
    public async Task Actions_follow_the_roles_of_builds_by_stage(string? actor, string branch, HttpStatusCode expected)
    {
        var (_, instance) = await InstanceAsync(branch);
        var (status, body) = await PostAsync(actor, $"/api/ops/instances/{instance}/restart");

        Assert.Equal(expected, status);
        Assert.Equal(expected == HttpStatusCode.Accepted ? ("running", 1) : ("running", 0), await AskedAsync(instance));
        Assert.Equal(expected == HttpStatusCode.Accepted ? 1 : 0, await AuditCountAsync(instance, "instance.restart"));
        if (expected == HttpStatusCode.Accepted) Assert.Equal(instance, body.GetProperty("id").GetGuid());
        if (expected == HttpStatusCode.Forbidden)
            Assert.Contains($"you are {actor}", body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_staging_instance_of_a_branch_promoted_since_is_production_to_a_tester()
    {
        var (project, instance) = await InstanceAsync("staging");
        await InstanceRows.ExecuteAsync(world.Factory.Owner, """
            update ops.branches set stage = 'staging', is_production = false where project_id = @project and name = 'main';
            update ops.branches set stage = 'production', is_production = true where project_id = @project and name = 'staging';
            """, new { project });

        var (status, body) = await PostAsync("tester", $"/api/ops/instances/{instance}/stop");

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("Stopping the production instance of staging needs the developer role or higher; you are tester.", body.GetProperty("detail").GetString());
        Assert.Equal(("running", 0), await AskedAsync(instance));
    }

    [Fact]
    public async Task Stop_start_and_restart_ask_the_runner_audit_each_change_and_wake_its_sync()
    {
        var runner = await TestRunner.RegisterAsync(world.Factory.Owner, world.A.OrgId, "instance-host");
        var (_, instance) = await InstanceAsync("feature-x", new(RunnerId: runner.Id));
        await using var listener = await Accounts.OpenAsync(world.Factory.Owner);
        var woken = new List<string>();
        listener.Notification += (_, e) => { lock (woken) woken.Add($"{e.Channel}:{e.Payload}"); };
        await listener.ExecuteAsync("listen instance_actions");

        var (status, body) = await PostAsync("developer", $"/api/ops/instances/{instance}/stop");
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal(("stopped", "running"), (body.GetProperty("desired").GetString(), body.GetProperty("state").GetString())); // the runner has not acted yet
        await listener.WaitAsync(TimeSpan.FromSeconds(30));
        lock (woken) Assert.Equal([$"instance_actions:{runner.Id}"], woken);

        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync("developer", $"/api/ops/instances/{instance}/stop")).Status); // again: nothing to change
        Assert.Equal(1, await AuditCountAsync(instance));
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync("developer", $"/api/ops/instances/{instance}/start")).Status);
        Assert.Equal(("running", 0), await AskedAsync(instance));
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync("developer", $"/api/ops/instances/{instance}/restart")).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync("developer", $"/api/ops/instances/{instance}/restart")).Status);
        Assert.Equal(("running", 2), await AskedAsync(instance));

        await InstanceRows.ExecuteAsync(world.Factory.Owner, "update ops.instances set state = 'failed' where id = @instance", new { instance });
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync("developer", $"/api/ops/instances/{instance}/start")).Status);
        Assert.Equal(("running", 3), await AskedAsync(instance)); // a failed one gets a fresh attempt

        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        var audit = (await conn.QueryAsync<(string Action, string Actor, string Email, string After, string Project)>("""
            select a.action, a.actor, u.email, a.after::text, a.project_id::text from ops.audit_log a join registry.users u on u.id = a.actor_user_id
             where a.target_type = 'instance' and a.target_id = @id order by a.id
            """, new { id = instance.ToString() })).ToList();
        Assert.Equal(["instance.stop", "instance.start", "instance.restart", "instance.restart", "instance.start"], audit.Select(a => a.Action));
        Assert.All(audit, a => Assert.Equal(("user", "developer@a.test"), (a.Actor, a.Email)));
        Assert.Contains("\"desired\": \"stopped\"", audit[0].After);
    }

    [Fact]
    public async Task A_retired_instance_cannot_be_started_stopped_or_restarted()
    {
        var (_, instance) = await InstanceAsync("staging", new(State: "stopped", Desired: "stopped", Current: false, Retired: true));
        foreach (var action in new[] { "start", "stop", "restart" })
        {
            var (status, body) = await PostAsync("developer", $"/api/ops/instances/{instance}/{action}");
            Assert.Equal(HttpStatusCode.Conflict, status);
            Assert.Equal("Instance retired", body.GetProperty("title").GetString());
            Assert.Contains("stopped for good", body.GetProperty("detail").GetString());
            Assert.Contains("Build the branch again", body.GetProperty("detail").GetString());
        }
        Assert.Equal(("stopped", 0), await AskedAsync(instance));
        Assert.Equal(0, await AuditCountAsync(instance));
    }

    [Fact]
    public async Task A_read_only_token_cannot_act()
    {
        var user = await world.NewOrgMemberAsync(world.A, "owner");
        var token = await Accounts.CreateTokenAsync(world.Factory.Owner, user, scope: "read");
        var (_, instance) = await InstanceAsync("feature-x");
        var response = await world.Client(null).WithToken(token).PostAsync($"/api/ops/instances/{instance}/stop", null);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(("running", 0), await AskedAsync(instance));
    }

    [Fact]
    public async Task An_unknown_instance_is_not_found()
    {
        var unknown = Guid.NewGuid();
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync("owner", $"/api/ops/instances/{unknown}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync("owner", $"/api/ops/instances/{unknown}/restart")).Status);
    }
}
