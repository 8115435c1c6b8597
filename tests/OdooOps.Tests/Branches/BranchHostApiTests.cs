using System.Net;
using System.Text.Json;
using Dapper;
using Npgsql;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Projects;

namespace OdooOps.Tests.Branches;

/// <summary>
/// POST /api/ops/projects/{id}/branches/{id}/host: org owners and admins pin a production or staging branch to a runner
/// that serves instances, is enabled, is theirs (or shared) and has room; the pin moves, the instance does not; everything
/// else is refused (403 for lower roles and project-only admins, 404 for another tenant, 400 naming runner_id for an
/// unfit runner, 409 for a development branch) and changes nothing.
/// </summary>
public sealed class BranchHostApiTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    static string Path(Guid project, Guid branch) => $"/api/ops/projects/{project}/branches/{branch}/host";

    async Task<Guid> RunnerAsync(Guid? org, bool serves = true, int capacity = 20, bool disabled = false)
    {
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        return await conn.ExecuteScalarAsync<Guid>("""
            insert into ops.runners (org_id, name, token_hash, serves_instances, instance_capacity, disabled_at)
            values (@org, @name, sha256(gen_random_uuid()::text::bytea), @serves, @capacity, case when @disabled then now() end) returning id
            """, new { org, name = world.Unique("host"), serves, capacity, disabled });
    }

    /// <summary>An instance of the branch's newest build (one is made when there is none), placed on a runner.</summary>
    async Task<Guid> InstanceAsync(Guid project, Guid branch, Guid runner)
    {
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        return await conn.ExecuteScalarAsync<Guid>("""
            with b as (insert into ops.builds (project_id, branch_id, status, trigger, commit_sha, finished_at)
                       values (@project, @branch, 'success', 'push', md5(random()::text), now()) returning id)
            insert into ops.instances (project_id, branch_id, build_id, runner_id, stage, database_name)
            select @project, @branch, b.id, @runner, br.stage, 'db_' || substr(md5(random()::text), 1, 12)
              from b, ops.branches br where br.id = @branch
            returning id
            """, new { project, branch, runner });
    }

    async Task<Guid?> PinAsync(Guid branch)
    {
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        return await conn.ExecuteScalarAsync<Guid?>("select runner_id from ops.branches where id = @branch", new { branch });
    }

    async Task<List<string>> AuditAsync(Guid branch)
    {
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        return [.. await conn.QueryAsync<string>(
            "select concat_ws(' → ', before::text, after::text) from ops.audit_log where action = 'branch.host' and target_id = @id order by id",
            new { id = branch.ToString() })];
    }

    [Theory]
    [InlineData("owner")]
    [InlineData("admin")]
    public async Task An_org_admin_moves_the_pin_and_the_instance_stays_where_it_is(string actor)
    {
        var project = await world.NewProjectAsync(world.A);
        var main = await world.BranchAsync(project, "main");
        var (old, target) = (await RunnerAsync(world.A.OrgId), await RunnerAsync(world.A.OrgId));
        var instance = await InstanceAsync(project, main, old);

        var response = await world.Client(actor).PostAsync(Path(project, main), ApiWorld.Body(new { runner_id = old }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        response = await world.Client(actor).PostAsync(Path(project, main), ApiWorld.Body(new { runner_id = target }));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        using var json = JsonDocument.Parse(text);
        Assert.Equal(target, json.RootElement.GetProperty("runner_id").GetGuid());
        Assert.Equal(old, json.RootElement.GetProperty("previous_runner_id").GetGuid());
        Assert.True(json.RootElement.GetProperty("changed").GetBoolean());
        Assert.Contains("the current instance is not moved: its filestore and database must be moved with a backup and restore",
            json.RootElement.GetProperty("message").GetString());
        Assert.Equal(target, await PinAsync(main));
        await using (var conn = await Accounts.OpenAsync(world.Factory.Owner))
            Assert.Equal(old, await conn.ExecuteScalarAsync<Guid>("select runner_id from ops.instances where id = @instance", new { instance }));
        var audit = await AuditAsync(main);
        Assert.Equal(2, audit.Count);
        Assert.Contains($"\"runner_id\": \"{old}\"", audit[1].Split(" → ")[0]);
        Assert.Contains($"\"runner_id\": \"{target}\"", audit[1].Split(" → ")[1]);

        // The same host again: nothing to do, nothing audited.
        var again = await world.Client(actor).PostAsync(Path(project, main), ApiWorld.Body(new { runner_id = target }));
        Assert.Contains("\"changed\":false", await again.Content.ReadAsStringAsync());
        Assert.Equal(2, (await AuditAsync(main)).Count);
    }

    [Theory]
    [InlineData("developer", HttpStatusCode.Forbidden)]
    [InlineData("tester", HttpStatusCode.Forbidden)]
    [InlineData("viewer", HttpStatusCode.Forbidden)]
    [InlineData("b-owner", HttpStatusCode.NotFound)]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    public async Task Others_cannot_move_a_branch(string? actor, HttpStatusCode expected)
    {
        var project = await world.NewProjectAsync(world.A);
        var staging = await world.BranchAsync(project, "staging");
        var runner = await RunnerAsync(world.A.OrgId);
        var before = await world.FingerprintAsync();

        Assert.Equal(expected, (await world.Client(actor).PostAsync(Path(project, staging), ApiWorld.Body(new { runner_id = runner }))).StatusCode);
        Assert.Equal(before, await world.FingerprintAsync());
        Assert.Null(await PinAsync(staging));
    }

    [Fact]
    public async Task A_project_admin_who_is_not_an_org_admin_is_refused_by_the_database()
    {
        var project = await world.NewProjectAsync(world.A);
        var staging = await world.BranchAsync(project, "staging");
        var runner = await RunnerAsync(world.A.OrgId);
        var email = $"{world.Unique("padmin")}@x.test";
        var user = await Accounts.CreateUserAsync(world.Factory.Owner, email);
        await using (var conn = await Accounts.OpenAsync(world.Factory.Owner))
            await conn.ExecuteAsync("insert into ops.project_members (project_id, user_id, role) values (@project, @user, 'admin')", new { project, user });
        var client = world.Factory.CreateClient().WithToken(await Accounts.CreateTokenAsync(world.Factory.Owner, user));

        var response = await client.PostAsync(Path(project, staging), ApiWorld.Body(new { runner_id = runner }));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("owner or admin role in the organisation", await response.Content.ReadAsStringAsync());
        Assert.Null(await PinAsync(staging));
    }

    [Fact]
    public async Task An_unfit_runner_is_a_400_naming_runner_id_with_the_reason_and_a_development_branch_is_a_409()
    {
        var project = await world.NewProjectAsync(world.A);
        var staging = await world.BranchAsync(project, "staging");
        var main = await world.BranchAsync(project, "main");
        var feature = await world.BranchAsync(project, "feature-x");
        var full = await RunnerAsync(world.A.OrgId, capacity: 2);
        await InstanceAsync(project, feature, full);       // one instance placed there
        var pinnedTo = await RunnerAsync(world.A.OrgId, capacity: 2);
        await world.Client("owner").PostAsync(Path(project, main), ApiWorld.Body(new { runner_id = full })); // main pinned: 2 of 2
        var cases = new (Guid Runner, string Reason)[]
        {
            (await RunnerAsync(world.A.OrgId, serves: false), "does not serve instances"),
            (await RunnerAsync(world.A.OrgId, disabled: true), "is disabled"),
            (await RunnerAsync(world.B.OrgId), "No such runner."),
            (Guid.NewGuid(), "No such runner."),
            (full, "is full: 2 of its 2 instances are taken"),
        };
        var owner = world.Client("owner");
        foreach (var (runner, reason) in cases)
        {
            var before = await world.FingerprintAsync();
            var response = await owner.PostAsync(Path(project, staging), ApiWorld.Body(new { runner_id = runner }));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
            using var json = JsonDocument.Parse(text);
            Assert.Contains(reason, json.RootElement.GetProperty("errors").GetProperty("runner_id")[0].GetString());
            Assert.Equal(before, await world.FingerprintAsync());
        }
        var missing = await owner.PostAsync(Path(project, staging), ApiWorld.Body(new { }));
        Assert.Contains("runner_id", await missing.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);

        var development = await owner.PostAsync(Path(project, feature), ApiWorld.Body(new { runner_id = pinnedTo }));
        Assert.Equal(HttpStatusCode.Conflict, development.StatusCode);
        Assert.Null(await PinAsync(feature));
        Assert.Null(await PinAsync(staging));

        // A shared runner serves every organisation.
        Assert.Equal(HttpStatusCode.OK, (await owner.PostAsync(Path(project, staging), ApiWorld.Body(new { runner_id = await RunnerAsync(null) }))).StatusCode);
    }

    [Fact]
    public async Task Members_see_the_pin_and_each_runner_with_why_it_cannot_host_the_branch()
    {
        var project = await world.NewProjectAsync(world.A);
        var staging = await world.BranchAsync(project, "staging");
        var (fit, buildsOnly, theirs) = (await RunnerAsync(world.A.OrgId), await RunnerAsync(world.A.OrgId, serves: false), await RunnerAsync(world.B.OrgId));
        await world.Client("admin").PostAsync(Path(project, staging), ApiWorld.Body(new { runner_id = fit }));

        using var json = JsonDocument.Parse(await world.Client("viewer").GetStringAsync(Path(project, staging)));
        Assert.Equal(fit, json.RootElement.GetProperty("runner_id").GetGuid());
        var runners = json.RootElement.GetProperty("runners").EnumerateArray().ToDictionary(r => r.GetProperty("runner_id").GetGuid());
        Assert.Equal(JsonValueKind.Null, runners[fit].GetProperty("refusal").ValueKind);
        Assert.Contains("does not serve instances", runners[buildsOnly].GetProperty("refusal").GetString());
        Assert.False(runners.ContainsKey(theirs));
        Assert.Equal(HttpStatusCode.NotFound, (await world.Client("b-owner").GetAsync(Path(project, staging))).StatusCode);
    }

    /// <summary>
    /// Two admins moving two branches to a host's last place at once: the second waits for the first's lock on the
    /// runner's row, then finds the host full. Without that lock both would see room and both would be pinned there.
    /// </summary>
    [Fact]
    public async Task Two_moves_to_a_host_s_last_place_serialize_and_the_second_finds_it_full()
    {
        var project = await world.NewProjectAsync(world.A);
        var (main, staging) = (await world.BranchAsync(project, "main"), await world.BranchAsync(project, "staging"));
        var runner = await RunnerAsync(world.A.OrgId, capacity: 1);
        await using var first = await RepoCredentialApiTests.RequestRoleAsync(world, world.A.OwnerId);
        await using var second = await RepoCredentialApiTests.RequestRoleAsync(world, world.A.OwnerId);
        var secondPid = await second.ExecuteScalarAsync<int>("select pg_backend_pid()");

        await using var tx1 = await first.BeginTransactionAsync();
        await first.ExecuteAsync("select ops.set_branch_runner(@project, @main, @runner)", new { project, main, runner }, tx1);
        var racing = Task.Run(async () =>
        {
            await using var tx2 = await second.BeginTransactionAsync();
            try
            {
                await second.ExecuteAsync("select ops.set_branch_runner(@project, @staging, @runner)", new { project, staging, runner }, tx2);
                await tx2.CommitAsync();
                return "pinned";
            }
            catch (PostgresException e) { return $"{e.SqlState} {e.MessageText}"; }
        });
        await using (var owner = await Accounts.OpenAsync(world.Factory.Owner))
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (await owner.ExecuteScalarAsync<int>("select cardinality(pg_blocking_pids(@secondPid))", new { secondPid }) == 0)
            {
                if (racing.IsCompleted) Assert.Fail($"the second move did not wait for the first: {await racing}");
                Assert.True(DateTime.UtcNow < deadline, "the second move never waited for the first");
                await Task.Delay(50);
            }
        }
        await tx1.CommitAsync();

        var outcome = await racing.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.StartsWith("22023", outcome);
        Assert.Contains("is full: 1 of its 1 instances are taken", outcome);
        Assert.Equal(runner, await PinAsync(main));
        Assert.Null(await PinAsync(staging));
    }
}
