using System.Net;
using Dapper;
using Npgsql;
using OdooOps.EnvVars;
using OdooOps.Secrets;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Runners;

namespace OdooOps.Tests.EnvVars;

/// <summary>
/// Secret variables on their way to a build, for real (a server, a runner, a sandboxed step): set through the API, the
/// value is nowhere in the database in plain text — not in the variable, not in the queued build's snapshot, not in the
/// audit log — yet the step gets it and its log shows *** instead. Values an older version stored in plain text are
/// sealed by the start-up step (and builds keep getting them); a value sealed with another secrets key fails its build
/// with the variable's name instead of reaching a runner.
/// </summary>
public sealed class EnvSecretBuildTests(PostgresCluster cluster) : IAsyncLifetime
{
    const string Secret = "sk-live-0123456789abcdef";
    RunnerWorld _world = null!;
    readonly CancellationTokenSource _stop = new();
    Task _runner = Task.CompletedTask;
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    const string Pipeline = """
        steps:
          - name: use them
            run: |
              echo "key=$API_KEY greeting=$GREETING"
              test "$API_KEY" = sk-live-0123456789abcdef
              echo "$API_KEY" >&2
        """;

    public async ValueTask InitializeAsync() => _world = await RunnerWorld.StartAsync(cluster);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _runner;
        await _world.DisposeAsync();
    }

    async Task StartRunnerAsync() => _runner = await _world.StartRunnerAsync(_stop.Token, capacity: 2);

    /// <summary>Every table of OdooOps' schemas with a row whose text holds <paramref name="text"/>.</summary>
    async Task<List<string>> TablesHoldingAsync(string text)
    {
        await using var conn = await Accounts.OpenAsync(_world.Owner);
        var found = new List<string>();
        foreach (var table in await conn.QueryAsync<string>(
                     "select format('%I.%I', schemaname, tablename) from pg_tables where schemaname in ('ops', 'ops_private', 'registry', 'ops_partitions')"))
            if (await conn.ExecuteScalarAsync<bool>($"select exists (select 1 from {table} x where x::text like @pattern)", new { pattern = $"%{text}%" }))
                found.Add(table);
        return found;
    }

    async Task AssertMaskedRunAsync(Guid build)
    {
        var row = await _world.WaitForAsync(build, Patience);
        var log = await _world.LogAsync(build);
        Assert.True(row.Status == "success", string.Join("\n", log)); // the step saw the real value
        Assert.Contains("stdout: key=*** greeting=hello-world", log);
        Assert.Contains("stderr: ***", log);
        Assert.Empty(await TablesHoldingAsync("sk-live")); // the log too
    }

    [Fact]
    public async Task A_secret_set_through_the_api_is_sealed_at_rest_yet_reaches_the_step_masked_in_its_log()
    {
        using var api = await _world.OwnerApiAsync();
        var path = $"/api/ops/projects/{_world.ProjectId}/env/production";
        Assert.Equal(HttpStatusCode.Created, (await api.PutAsync($"{path}/API_KEY", ApiWorld.Body(new { value = Secret, secret = true }))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await api.PutAsync($"{path}/GREETING", ApiWorld.Body(new { value = "hello-world" }))).StatusCode);

        var build = await _world.QueueBuildAsync("main", await _world.CommitPipelineAsync(Pipeline));
        Assert.Empty(await TablesHoldingAsync("sk-live")); // queued: its snapshot holds the sealed value
        await using (var conn = await Accounts.OpenAsync(_world.Owner))
            Assert.Equal(1, await conn.ExecuteScalarAsync<int>(
                "select count(*) from ops_private.build_snapshots where build_id = @build and sealed_env ? 'API_KEY' and not env ? 'API_KEY'", new { build }));

        await StartRunnerAsync();
        await AssertMaskedRunAsync(build);
    }

    [Fact]
    public async Task Secrets_stored_in_plain_text_are_sealed_as_the_server_starts_and_builds_still_get_them()
    {
        await using var conn = await Accounts.OpenAsync(_world.Owner);
        await conn.ExecuteAsync("""
            insert into ops.env_vars (project_id, stage, name, value, is_secret) values
                (@ProjectId, 'production', 'API_KEY', @Secret, true), (@ProjectId, 'production', 'GREETING', 'hello-world', false)
            """, new { _world.ProjectId, Secret });
        const string Stamps = """
            select string_agg(concat_ws(' ', v.name, v.updated_at, v.updated_by, c.changed_at), ', ' order by v.name)
              from ops.env_vars v join ops.env_stage_changes c using (project_id, stage) where v.project_id = @ProjectId
            """;
        var stamps = await conn.ExecuteScalarAsync<string>(Stamps, new { _world.ProjectId });
        var build = await _world.QueueBuildAsync("main", await _world.CommitPipelineAsync(Pipeline));
        Assert.Equal(["ops.env_vars", "ops_private.build_snapshots"], (await TablesHoldingAsync("sk-live")).Order());

        var seal = _world.Service<EnvSecretSeal>();
        Assert.Equal(2, await seal.SealAsync(CancellationToken.None)); // the variable and the queued build's copy
        Assert.Equal(0, await seal.SealAsync(CancellationToken.None));
        Assert.Empty(await TablesHoldingAsync("sk-live"));
        // Sealing changes how it is kept, not the variable: no "updated", no restart asked for.
        Assert.Equal(stamps, await conn.ExecuteScalarAsync<string>(Stamps, new { _world.ProjectId }));

        await StartRunnerAsync();
        await AssertMaskedRunAsync(build);
    }

    [Fact]
    public async Task A_secret_sealed_with_another_secrets_key_fails_its_build_by_name_instead_of_reaching_a_runner()
    {
        var other = new EnvSecretBox(SecretsKey.Generate());
        await using (var conn = await Accounts.OpenAsync(_world.Owner))
            await conn.ExecuteAsync("""
                insert into ops.env_vars (project_id, stage, name, sealed, is_secret) values (@ProjectId, 'production', 'API_KEY', @sealedText, true)
                """, new { _world.ProjectId, sealedText = other.Seal(_world.ProjectId, "production", "API_KEY", Secret) });
        var build = await _world.QueueBuildAsync("main", await _world.CommitPipelineAsync(Pipeline));

        await StartRunnerAsync();
        var row = await _world.WaitForAsync(build, Patience);
        Assert.Equal("failed", row.Status);
        Assert.Contains("production secret variable API_KEY cannot be decrypted", row.ResultDetail);
        Assert.Empty(await _world.StepsAsync(build)); // no runner ran anything
    }
}
