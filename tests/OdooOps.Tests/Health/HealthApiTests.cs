using System.Net;
using Dapper;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Health;

public sealed class HealthApiTests(PostgresCluster cluster)
{
    [Fact]
    public async Task Ready_only_while_the_database_matches_the_binarys_migrations()
    {
        await using var factory = await OdooOpsFactory.CreateAsync(cluster, "health");
        var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        var ready = await client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var scripts = OdooOps.Database.Migrator.EmbeddedScripts().Count;
        Assert.Contains($"\"migrations\":\"{scripts}/{scripts}\"", await ready.Content.ReadAsStringAsync());

        await using (var conn = await Accounts.OpenAsync(factory.Owner))
            await conn.ExecuteAsync("update ops_private.schema_migrations set checksum = 'edited' where script_name = (select max(script_name) from ops_private.schema_migrations)");
        var notReady = await client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        Assert.Equal("application/problem+json", notReady.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"{scripts - 1}/{scripts}", await notReady.Content.ReadAsStringAsync());
        // Liveness does not depend on the database.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
    }
}
