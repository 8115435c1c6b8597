using System.Net;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using OdooOps.EnvVars;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.EnvVars;

/// <summary>
/// /api/ops/projects/{id}/env: developers read and change staging's and development's variables, production's are
/// admins'; testers and viewers get 403, another tenant 404; bad input is a 400 naming the field and changes nothing.
/// A secret is sealed before it reaches the database and no answer — the write's, the list, the audit log — ever holds
/// its value. A change names the instances of its stage that started before it (rows whose runner reports no env
/// revision, as older runners do; the revision rule is InstanceEnvRevisionTests' and EnvRestartTests').
/// </summary>
public sealed class EnvVarsApiTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    const string Secret = "smtp-pa55-Zq8v1W";

    static string Path(Guid project, string? stage = null, string? name = null) =>
        $"/api/ops/projects/{project}/env{(stage is null ? "" : $"/{stage}")}{(name is null ? "" : $"/{name}")}";

    Task<HttpResponseMessage> PutAsync(string actor, Guid project, string stage, string name, object body) =>
        world.Client(actor).PutAsync(Path(project, stage, name), ApiWorld.Body(body));

    async Task<string> StoredAsync(Guid project)
    {
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        return await conn.ExecuteScalarAsync<string>("""
            select concat_ws('|', (select string_agg(concat_ws(':', stage, name, value, sealed, is_secret), ',' order by stage, name)
                                     from ops.env_vars where project_id = @project),
                                  (select count(*) from ops.audit_log where project_id = @project and action like 'env.%'))
            """, new { project }) ?? "";
    }

    static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Theory]
    [InlineData("owner", HttpStatusCode.OK)]
    [InlineData("developer", HttpStatusCode.OK)]
    [InlineData("tester", HttpStatusCode.Forbidden)]
    [InlineData("viewer", HttpStatusCode.Forbidden)]
    [InlineData("b-owner", HttpStatusCode.NotFound)]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    public async Task Developers_and_up_read_them_testers_and_viewers_do_not_and_another_tenant_finds_nothing(string? actor, HttpStatusCode expected)
    {
        var project = await world.NewProjectAsync(world.A);
        Assert.Equal(HttpStatusCode.Created, (await PutAsync("owner", project, "staging", "SHOP_MODE", new { value = "test" })).StatusCode);
        var response = await world.Client(actor).GetAsync(Path(project));
        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.OK)
            Assert.Equal("test", (await JsonAsync(response)).GetProperty("variables")[0].GetProperty("value").GetString());
    }

    [Fact]
    public async Task A_secret_is_sealed_at_rest_and_no_answer_ever_holds_its_value()
    {
        var project = await world.NewProjectAsync(world.A);
        var created = await PutAsync("admin", project, "production", "SMTP_PASSWORD", new { value = Secret, secret = true });
        var body = await created.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.DoesNotContain(Secret, body);
        var variable = (await JsonAsync(created)).GetProperty("variable");
        Assert.True(variable.GetProperty("secret").GetBoolean());
        Assert.Equal(JsonValueKind.Null, variable.GetProperty("value").ValueKind);
        Assert.Equal("admin@a.test", variable.GetProperty("updated_by_name").GetString());

        // Replaced, listed, audited: the value is in none of the answers.
        var replaced = await PutAsync("owner", project, "production", "SMTP_PASSWORD", new { value = Secret + "-2" });
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        Assert.DoesNotContain(Secret, await replaced.Content.ReadAsStringAsync());
        Assert.DoesNotContain(Secret, await world.Client("owner").GetStringAsync(Path(project)));
        Assert.DoesNotContain(Secret, await world.Client("owner").GetStringAsync($"/api/ops/orgs/{world.A.OrgId}/audit"));

        // At rest: no plain text, only a value the server's key opens for this very variable.
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        var (value, sealedText) = await conn.QuerySingleAsync<(string?, string)>(
            "select value, sealed from ops.env_vars where project_id = @project and name = 'SMTP_PASSWORD'", new { project });
        Assert.Null(value);
        Assert.DoesNotContain(Secret, sealedText);
        var box = world.Factory.Services.GetRequiredService<EnvSecretBox>();
        Assert.Equal(Secret + "-2", box.Open(project, "production", "SMTP_PASSWORD", sealedText));
        Assert.Null(box.Open(project, "staging", "SMTP_PASSWORD", sealedText)); // copied onto another stage's variable: does not open
        Assert.Null(box.Open(world.B.ProjectId, "production", "SMTP_PASSWORD", sealedText)); // nor in another project
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from ops.audit_log where before::text like '%smtp-pa55%' or after::text like '%smtp-pa55%'"));
    }

    [Theory]
    [InlineData("owner", "production", HttpStatusCode.Created)]
    [InlineData("admin", "production", HttpStatusCode.Created)]
    [InlineData("developer", "production", HttpStatusCode.Forbidden)]
    [InlineData("developer", "staging", HttpStatusCode.Created)]
    [InlineData("developer", "development", HttpStatusCode.Created)]
    [InlineData("tester", "development", HttpStatusCode.Forbidden)]
    [InlineData("viewer", "development", HttpStatusCode.Forbidden)]
    [InlineData("b-owner", "development", HttpStatusCode.NotFound)]
    public async Task Production_is_for_admins_the_other_stages_for_developers_and_a_refusal_changes_nothing(string actor, string stage, HttpStatusCode expected)
    {
        var project = await world.NewProjectAsync(world.A);
        var before = await StoredAsync(project);
        var response = await PutAsync(actor, project, stage, "API_URL", new { value = "https://api.example" });
        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.Created)
        {
            Assert.Equal(["env.set"], (await AuditActionsAsync(project)));
            Assert.Equal(HttpStatusCode.OK, (await world.Client(actor).DeleteAsync(Path(project, stage, "API_URL"))).StatusCode);
            Assert.Equal(["env.set", "env.unset"], (await AuditActionsAsync(project)));
            return;
        }
        if (expected == HttpStatusCode.Forbidden && actor == "developer")
            Assert.Contains("needs the admin role or higher; you are developer", (await JsonAsync(response)).GetProperty("detail").GetString());
        Assert.Equal(before, await StoredAsync(project));
    }

    async Task<List<string>> AuditActionsAsync(Guid project)
    {
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        return [.. await conn.QueryAsync<string>("select action from ops.audit_log where project_id = @project and action like 'env.%' order by id", new { project })];
    }

    [Fact]
    public async Task A_developer_cannot_remove_or_overwrite_a_production_secret_it_cannot_see()
    {
        var project = await world.NewProjectAsync(world.A);
        Assert.Equal(HttpStatusCode.Created, (await PutAsync("admin", project, "production", "DB_PASSWORD", new { value = Secret, secret = true })).StatusCode);
        var before = await StoredAsync(project);
        Assert.Equal(HttpStatusCode.Forbidden, (await world.Client("developer").DeleteAsync(Path(project, "production", "DB_PASSWORD"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await PutAsync("developer", project, "production", "DB_PASSWORD", new { value = "mine", secret = false })).StatusCode);
        Assert.DoesNotContain("DB_PASSWORD", await world.Client("developer").GetStringAsync(Path(project)));
        Assert.Equal(before, await StoredAsync(project));
    }

    [Theory]
    [InlineData("nowhere", "API_URL", """{"value":"x"}""", "stage")]
    [InlineData("staging", "1ABC", """{"value":"x"}""", "name")]
    [InlineData("staging", "WITH-DASH", """{"value":"x"}""", "name")]
    [InlineData("staging", "PGPASSWORD", """{"value":"x"}""", "name")]
    [InlineData("staging", "ODOOOPS_STAGE", """{"value":"x"}""", "name")]
    [InlineData("staging", "OPS_SECRETS_KEY", """{"value":"x"}""", "name")]
    [InlineData("staging", "HOME", """{"value":"/root"}""", "name")]
    [InlineData("staging", "LD_PRELOAD", """{"value":"/tmp/x.so"}""", "name")]
    [InlineData("staging", "API_URL", """{"secret":false}""", "value")]
    [InlineData("staging", "API_URL", """{"value":"","secret":true}""", "value")]
    [InlineData("staging", "API_URL", "BIG", "value")]
    public async Task Bad_input_is_a_400_naming_the_field_and_changes_nothing(string stage, string name, string body, string field)
    {
        var project = await world.NewProjectAsync(world.A);
        var before = await StoredAsync(project);
        if (body == "BIG") body = JsonSerializer.Serialize(new { value = new string('x', EnvVarRules.MaxValueBytes + 1) });
        var response = await world.Client("owner").PutAsync(Path(project, stage, name), new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
        Assert.True(JsonDocument.Parse(text).RootElement.GetProperty("errors").TryGetProperty(field, out _), text);
        Assert.Equal(before, await StoredAsync(project));
    }

    [Fact]
    public async Task A_change_names_the_running_instances_of_its_stage_started_before_it()
    {
        var project = await world.NewProjectAsync(world.A);
        var staging = await Instances.InstanceRows.InsertAsync(world.Factory.Owner, project, "staging");
        var production = await Instances.InstanceRows.InsertAsync(world.Factory.Owner, project, "main");
        await Instances.InstanceRows.InsertAsync(world.Factory.Owner, project, "feature-x", new(State: "stopped", Desired: "stopped"));

        var saved = await JsonAsync(await PutAsync("developer", project, "staging", "FEATURE_FLAGS", new { value = "beta" }));
        var restart = Assert.Single(saved.GetProperty("restart_needed").EnumerateArray());
        Assert.Equal((staging.ToString(), "staging", "staging"),
            (restart.GetProperty("instance_id").GetString(), restart.GetProperty("branch").GetString(), restart.GetProperty("stage").GetString()));
        Assert.DoesNotContain(production.ToString(), saved.ToString());
        // A stopped development instance picks the variables up when it starts: nothing to restart there.
        Assert.Empty((await JsonAsync(await PutAsync("developer", project, "development", "FEATURE_FLAGS", new { value = "beta" })))
            .GetProperty("restart_needed").EnumerateArray());

        // Restarted (the runner reports a new start): nothing to do any more.
        await using (var conn = await Accounts.OpenAsync(world.Factory.Owner))
            await conn.ExecuteAsync("update ops.instances set started_at = now() + interval '1 second' where id = @staging", new { staging });
        Assert.Empty((await JsonAsync(await world.Client("developer").GetAsync(Path(project) + "?stage=staging"))).GetProperty("restart_needed").EnumerateArray());
        // Removing a variable is a change too.
        Assert.Equal(HttpStatusCode.Created, (await PutAsync("admin", project, "production", "WORKERS_HINT", new { value = "4" })).StatusCode);
        var afterUnset = await JsonAsync(await world.Client("admin").DeleteAsync(Path(project, "production", "WORKERS_HINT")));
        Assert.Equal(production.ToString(), Assert.Single(afterUnset.GetProperty("restart_needed").EnumerateArray()).GetProperty("instance_id").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await world.Client("admin").DeleteAsync(Path(project, "production", "WORKERS_HINT"))).StatusCode);
    }

    [Fact]
    public async Task A_plain_variable_becomes_secret_as_it_is_but_a_secret_becomes_plain_only_with_a_new_value()
    {
        var project = await world.NewProjectAsync(world.A);
        Assert.Equal(HttpStatusCode.Created, (await PutAsync("developer", project, "staging", "TOKEN", new { value = Secret })).StatusCode);
        var sealedAnswer = await PutAsync("developer", project, "staging", "TOKEN", new { secret = true });
        Assert.Equal(HttpStatusCode.OK, sealedAnswer.StatusCode);
        Assert.DoesNotContain(Secret, await sealedAnswer.Content.ReadAsStringAsync());
        Assert.DoesNotContain(Secret, await StoredAsync(project));

        var plain = await PutAsync("developer", project, "staging", "TOKEN", new { secret = false });
        Assert.Equal(HttpStatusCode.BadRequest, plain.StatusCode);
        Assert.Contains("its value is never shown", await plain.Content.ReadAsStringAsync());
        var again = await JsonAsync(await PutAsync("developer", project, "staging", "TOKEN", new { value = "public", secret = false }));
        Assert.Equal("public", again.GetProperty("variable").GetProperty("value").GetString());
    }

    [Fact]
    public async Task A_stage_holds_at_most_a_hundred_variables()
    {
        var project = await world.NewProjectAsync(world.A);
        await using (var conn = await Accounts.OpenAsync(world.Factory.Owner))
            await conn.ExecuteAsync("insert into ops.env_vars (project_id, stage, name, value) select @project, 'development', 'V' || i, 'x' from generate_series(1, 100) i",
                new { project });
        var refused = await PutAsync("developer", project, "development", "ONE_MORE", new { value = "x" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.True((await JsonAsync(refused)).GetProperty("errors").TryGetProperty("name", out _));
        Assert.Equal(HttpStatusCode.OK, (await PutAsync("developer", project, "development", "V1", new { value = "changed" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await PutAsync("developer", project, "staging", "ONE_MORE", new { value = "x" })).StatusCode);
    }
}
