using System.Net;
using System.Net.Http.Json;
using OdooOps.Tests.Infrastructure;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Tests.Backups.Storage;

/// <summary>
/// A 200 MB zip through PUT backups/{id}/artifact, made up as it is sent (it exists nowhere whole, and cannot be read
/// twice), into the folder and into a real s3rver. That the server streams it rather than holding it is observed, not
/// guessed: the sender stops at 150 MB and goes on only once at least 100 MB are on the storage's disk — a server that
/// buffered the body before storing it would have stored nothing by then, and the test would time out. Above
/// Kestrel's default 30 MB body limit, so the endpoint's own limit is the one in force. With the bucket gone, the same
/// call is a 503 with Retry-After.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class LargeArtifactUploadTests(PostgresCluster cluster)
{
    const long Size = 200L * 1024 * 1024;
    const long PauseAt = 150L * 1024 * 1024;
    const long StoredBeforeGoingOn = 100L * 1024 * 1024;

    [Fact]
    public async Task A_200_MB_upload_is_streamed_into_the_folder()
    {
        await using var world = await BackupWorld.StartAsync(cluster);
        await UploadAsync(world, Path.Combine(world.Folder, "store"));
    }

    [Fact]
    public async Task A_200_MB_upload_is_streamed_into_the_bucket_and_a_gone_bucket_is_503()
    {
        await using var s3 = await S3rver.StartAsync();
        await using var world = await BackupWorld.StartAsync(cluster, s3.Settings());
        await UploadAsync(world, s3.Directory);

        var runner = await world.World.RegisterAsync("host-2");
        var backup = await world.BackupAsync();
        var lease = await world.TaskAsync(backup, runner.RunnerId);
        await s3.StopAsync();
        using var http = world.Runner(runner.Token);
        var put = await http.PutAsync(BackupWorld.ArtifactPath(backup, lease), new ByteArrayContent(new byte[10]));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, put.StatusCode);
        Assert.Equal("application/problem+json", put.Content.Headers.ContentType?.MediaType);
        Assert.Equal(TimeSpan.FromSeconds(30), put.Headers.RetryAfter?.Delta);
        Assert.DoesNotContain(S3rver.SecretAccessKey, await put.Content.ReadAsStringAsync());
        Assert.Null((await world.RowAsync(backup)).SizeBytes);
    }

    static async Task UploadAsync(BackupWorld world, string disk)
    {
        var runner = await world.World.RegisterAsync("host");
        var backup = await world.BackupAsync();
        var lease = await world.TaskAsync(backup, runner.RunnerId);
        var body = new GeneratedStream(Size, PauseAt, () => WaitForBytesOnDiskAsync(disk, StoredBeforeGoingOn));
        using var http = world.Runner(runner.Token);
        var content = new StreamContent(body, 256 * 1024); // no length: sent chunked, as the runner streams its zip
        content.Headers.ContentType = new("application/zip");

        var put = await http.PutAsync(BackupWorld.ArtifactPath(backup, lease), content);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var stored = await put.Content.ReadFromJsonAsync<ArtifactStored>(Json);
        Assert.Equal(new ArtifactStored(Size, body.Sha256!), stored);
        var row = await world.RowAsync(backup);
        Assert.Equal((Size, body.Sha256), (row.SizeBytes, row.Sha256));
    }

    /// <summary>Waits (generously: a loaded 2-core machine) until the files under <paramref name="folder"/> hold <paramref name="bytes"/>.</summary>
    internal static async Task WaitForBytesOnDiskAsync(string folder, long bytes)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (true)
        {
            var onDisk = Directory.Exists(folder)
                ? Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Sum(f => { try { return new FileInfo(f).Length; } catch (IOException) { return 0; } })
                : 0;
            if (onDisk >= bytes) return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{onDisk} bytes stored under {folder} while the sender held the rest back: the server is not streaming the body.");
            await Task.Delay(100);
        }
    }
}
