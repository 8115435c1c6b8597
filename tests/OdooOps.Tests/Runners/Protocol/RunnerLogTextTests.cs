using System.Net;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Runners.Protocol;

/// <summary>
/// PostgreSQL text cannot hold NUL. A log line is other programs' output relayed by the runner, so its NUL becomes
/// U+FFFD and the batch is stored; every other text field of the protocol refuses it with a 400 naming the field.
/// </summary>
public sealed class RunnerLogTextTests(PostgresCluster cluster)
{
    [Fact]
    public async Task A_nul_in_a_log_line_becomes_a_replacement_character_and_elsewhere_is_refused()
    {
        await using var world = await RunnerWorld.StartAsync(cluster);
        var build = await world.QueueBuildAsync();
        using var client = await world.ClientAsync();
        var job = Assert.Single(await client.NextAsync(1, 0, default));

        await client.LogsAsync(job, [new(0, null, "stdout", "before"), new(1, null, "stdout", "a\0b"), new(2, null, "stderr", "after")], default);
        Assert.Equal(["stdout: before", "stdout: a\uFFFDb", "stderr: after"], await world.LogAsync(build));

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() =>
            client.StepAsync(job, 0, new(null, "st\0ep", "running", null, null, null), default));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("\"name\":[\"name must not contain NUL characters", refused.Message);
        Assert.Empty(await world.StepsAsync(build));
    }
}
