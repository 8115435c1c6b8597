using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Dapper;
using OdooOps.Auth;
using OdooOps.Runners.Protocol;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Api;

/// <summary>
/// PostgreSQL text cannot hold NUL. Every text field of every endpoint's JSON body, and every text query parameter, as
/// the OpenAPI document lists them (so a new endpoint is covered without editing this test), refuses a "\u0000" with a
/// 400 naming the field, and the database is unchanged. Build log lines are the exception: NUL becomes U+FFFD.
/// </summary>
public sealed partial class NulTextTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    /// <summary>One text field set to NUL, in a body (JSON path as the server names it) or the query string.</summary>
    public sealed record Case(string Method, string Path, string Field, string? Body, string? Query)
    {
        public override string ToString() => $"{Method} {Path} {Field}";
    }

    /// <summary>Log lines are relayed program output: their NUL is replaced, not refused (the runner log tests).</summary>
    static readonly string[] Replaced = ["POST /api/runner/v1/jobs/{buildId}/logs lines[0].line", "POST /api/runner/v1/instances/{instanceId}/logs lines[0].line"];

    [Fact]
    public async Task Every_text_field_of_every_endpoint_refuses_a_nul_naming_the_field_and_changes_nothing()
    {
        using var doc = JsonDocument.Parse(await world.Client(null).GetStringAsync("/openapi/v1.json"));
        var cases = Discover(doc.RootElement).Where(c => !Replaced.Contains(c.ToString())).ToList();
        Assert.True(cases.Count >= 50, $"only {cases.Count} text fields found in the OpenAPI document");
        Assert.Contains(cases, c => c.ToString() == "POST /api/ops/projects/{projectId}/ingest-tokens name");
        Assert.Contains(cases, c => c.ToString() == "POST /api/runner/v1/jobs/{buildId}/source modules[0].depends[0]");
        Assert.Contains(cases, c => c.ToString() == "GET /api/ops/projects/{projectId}/builds branch");

        var runner = await RunnerTokenAsync();
        var before = await SnapshotAsync();
        var failures = new List<string>();
        foreach (var c in cases)
        {
            using var request = new HttpRequestMessage(new HttpMethod(c.Method), Fill(c.Path) + c.Query);
            if (c.Body is not null) request.Content = new StringContent(c.Body, Encoding.UTF8, "application/json");
            if (c.Path.StartsWith("/api/runner/v1/", StringComparison.Ordinal) && c.Path != RunnerProtocol.Register)
                request.Headers.Authorization = new("Bearer", runner);
            else if (c.Path != RunnerProtocol.Register) request.Headers.Authorization = new("Bearer", world.Tokens["owner"]);
            using var response = await world.Client(null).SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.BadRequest || !NamesField(text, c.Field))
                failures.Add($"{c}: {(int)response.StatusCode} {text}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(before, await SnapshotAsync());
    }

    static bool NamesField(string problem, string field)
    {
        try
        {
            using var json = JsonDocument.Parse(problem);
            return json.RootElement.GetProperty("errors").TryGetProperty(field, out var messages) &&
                   messages.EnumerateArray().Any(m => m.GetString()!.Contains("NUL", StringComparison.Ordinal));
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException) { return false; }
    }

    /// <summary>Every operation's text body fields (one case each, the body holding that field alone) and text query parameters.</summary>
    static IEnumerable<Case> Discover(JsonElement doc)
    {
        var schemas = doc.GetProperty("components").GetProperty("schemas");
        foreach (var path in doc.GetProperty("paths").EnumerateObject())
            foreach (var operation in path.Value.EnumerateObject().Where(o => o.Value.ValueKind == JsonValueKind.Object && o.Value.TryGetProperty("responses", out _)))
            {
                var method = operation.Name.ToUpperInvariant();
                if (operation.Value.TryGetProperty("requestBody", out var body) &&
                    body.GetProperty("content").TryGetProperty("application/json", out var json))
                    foreach (var (field, value) in TextLeaves(json.GetProperty("schema"), schemas, 0))
                        yield return new Case(method, path.Name, field.Length == 0 ? "body" : field, value.ToJsonString(), null);
                if (operation.Value.TryGetProperty("parameters", out var parameters))
                    foreach (var p in parameters.EnumerateArray().Where(p => p.GetProperty("in").GetString() == "query" && IsText(p.GetProperty("schema"))))
                        yield return new Case(method, path.Name, p.GetProperty("name").GetString()!, null, $"?{p.GetProperty("name").GetString()}=%00");
            }
    }

    /// <summary>(path of a plain string inside the schema, a JSON value holding NUL there and nothing else).</summary>
    static IEnumerable<(string Field, JsonNode Value)> TextLeaves(JsonElement schema, JsonElement schemas, int depth)
    {
        if (depth > 8) yield break;
        if (schema.TryGetProperty("$ref", out var reference))
            schema = schemas.GetProperty(reference.GetString()!.Split('/')[^1]);
        if (schema.TryGetProperty("oneOf", out var oneOf))
        {
            foreach (var option in oneOf.EnumerateArray())
                foreach (var leaf in TextLeaves(option, schemas, depth + 1)) yield return leaf;
            yield break;
        }
        if (IsText(schema)) yield return ("", JsonValue.Create("\0"));
        if (Has(schema, "array") && schema.TryGetProperty("items", out var items))
            foreach (var (field, value) in TextLeaves(items, schemas, depth + 1))
                yield return (field.Length == 0 || field.StartsWith('[') ? $"[0]{field}" : $"[0].{field}", new JsonArray(value));
        if (schema.TryGetProperty("properties", out var properties))
            foreach (var property in properties.EnumerateObject())
                foreach (var (field, value) in TextLeaves(property.Value, schemas, depth + 1))
                    yield return (field.StartsWith('[') || field.Length == 0 ? property.Name + field : $"{property.Name}.{field}",
                        new JsonObject { [property.Name] = value });
    }

    /// <summary>A plain string: not a uuid, date or number that merely travels as a string.</summary>
    static bool IsText(JsonElement schema) => Has(schema, "string") && !schema.TryGetProperty("format", out _) && !Has(schema, "integer");

    static bool Has(JsonElement schema, string type) => schema.TryGetProperty("type", out var t) &&
        (t.ValueKind == JsonValueKind.String ? t.GetString() == type : t.EnumerateArray().Any(x => x.GetString() == type));

    /// <summary>Route parameters with org A's ids (the caller owns them, so authorization lets the request through).</summary>
    string Fill(string template) => RouteParameter().Replace(template, m => m.Groups[1].Value switch
    {
        "projectId" => world.A.ProjectId.ToString(),
        "orgId" => world.A.OrgId.ToString(),
        "buildId" => world.A.BuildId.ToString(),
        "seq" => "0",
        "stage" => "staging",
        "name" => "NUL_TEST",
        var name when name.EndsWith("Id", StringComparison.Ordinal) => Guid.NewGuid().ToString(), // the body is refused before it is looked up
        var name => throw new InvalidOperationException($"No value for route parameter {name}: add one here."),
    });

    [GeneratedRegex(@"\{(\w+)\}")]
    private static partial Regex RouteParameter();

    /// <summary>A runner of org A, registered through the protocol.</summary>
    async Task<string> RunnerTokenAsync()
    {
        var registration = AccessTokens.Create(RunnerProtocol.RegistrationTokenPrefix);
        await using (var conn = await Accounts.OpenAsync(world.Factory.Owner))
            await conn.ExecuteAsync("insert into ops.runner_registration_tokens (org_id, token_hash) values (@OrgId, @hash)",
                new { world.A.OrgId, hash = AccessTokens.Hash(registration) });
        using var response = await world.Client(null).PostAsync(RunnerProtocol.Register,
            ApiWorld.Body(new { registration_token = registration, name = "nul-test-runner" }));
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("token").GetString()!;
    }

    /// <summary>
    /// Every row of every ops/registry table, but for what changes by itself: the scheduler's job runs and the system
    /// project's scan, and the last-use times that authentication refreshes.
    /// </summary>
    async Task<string> SnapshotAsync()
    {
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        var system = (await conn.ExecuteScalarAsync<Guid>("select ops.system_project_id()")).ToString();
        var snapshot = await DbSnapshot.TakeAsync(conn);
        snapshot.Remove("ops.job_runs");
        return string.Join("\n", snapshot.SelectMany(t => t.Value.Where(row => !row.Contains(system, StringComparison.Ordinal))
            .Select(row => $"{t.Key} {LastUse().Replace(row, "")}")));
    }

    [GeneratedRegex("\"last_(used|seen)_at\": (null|\"[^\"]*\")")]
    private static partial Regex LastUse();
}
