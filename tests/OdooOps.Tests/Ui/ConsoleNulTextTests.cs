using System.Net;
using System.Text.Json;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Ui;

/// <summary>
/// The console's forms and query strings follow the API's rule: a NUL (which PostgreSQL text cannot hold) is a 400
/// naming the posted field, and nothing is created.
/// </summary>
public sealed class ConsoleNulTextTests(ConsoleWorld world) : IClassFixture<ConsoleWorld>
{
    static async Task AssertRefusedAsync(HttpResponseMessage response, string field)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(text);
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out var messages), text);
        Assert.Contains("NUL", messages[0].GetString());
    }

    [Fact]
    public async Task A_form_post_with_a_nul_is_refused_naming_the_field_and_creates_nothing()
    {
        var owner = await world.ClientAsync("owner");
        var before = await world.ScalarAsync<long>("select count(*) from ops.projects");
        var slug = world.Unique("nul");
        var response = await ConsoleWorld.PostFormAsync(owner, "/app/projects", "new-project", new()
        {
            ["Input.Name"] = "Bad\0Name", ["Input.Slug"] = slug, ["Input.RepoUrl"] = "https://example.com/x.git", ["Input.RuntimeVersion"] = "19.0",
        });
        await AssertRefusedAsync(response, "Input.Name");
        Assert.Equal(before, await world.ScalarAsync<long>("select count(*) from ops.projects"));

        // The same form sent as multipart (whose values the form reader does not decode, so the NUL arrives as it is).
        var multipart = new MultipartFormDataContent
        {
            { new StringContent("new-project"), "_handler" },
            { new StringContent(ConsoleWorld.TokenOf(await owner.GetStringAsync("/app/projects"))), "__RequestVerificationToken" },
            { new StringContent("Bad\0Name"), "Input.Name" },
            { new StringContent("https://example.com/x.git"), "Input.RepoUrl" },
        };
        await AssertRefusedAsync(await owner.PostAsync("/app/projects", multipart), "Input.Name");
        Assert.Equal(before, await world.ScalarAsync<long>("select count(*) from ops.projects"));

        // Signing in looks the address up: refused before that, like any other field.
        var login = world.Anonymous();
        await AssertRefusedAsync(await ConsoleWorld.PostFormAsync(login, "/login", "login",
            new() { ["Input.Email"] = "owner@a.test\0", ["Input.Password"] = Accounts.Password }), "Input.Email");
    }

    [Fact]
    public async Task A_query_string_with_a_nul_is_refused_naming_the_parameter()
    {
        var owner = await world.ClientAsync("owner");
        await AssertRefusedAsync(await owner.GetAsync("/app/projects?q=web%00"), "q");
    }
}
