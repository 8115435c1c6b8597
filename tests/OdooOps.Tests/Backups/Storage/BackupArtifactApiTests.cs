using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using OdooOps.Tests.Infrastructure;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Tests.Backups.Storage;

/// <summary>
/// PUT/GET backups/{id}/artifact against a real server with folder storage: the body is stored and recorded with the
/// server's own size and SHA-256, and read back; and every caller the one rule (ops_private.backup_right) must turn away
/// is turned away before a byte is stored: no token, another runner, a lease the rescuer took back, a finished task, a
/// verify task writing (or reporting), a taken backup, a build of another branch or project. A lease past its time that
/// the rescuer has not taken back still holds, for the upload, the read and the report alike.
/// </summary>
public sealed class BackupArtifactApiTests(PostgresCluster cluster) : IAsyncLifetime
{
    BackupWorld _world = null!;

    // The scheduler's rescuer is off: the tests take leases back when they mean to.
    public async ValueTask InitializeAsync() =>
        _world = await BackupWorld.StartAsync(cluster, new Dictionary<string, string?> { ["OPS_JOB_runner_rescue"] = "0 0 1 1 *" });

    public async ValueTask DisposeAsync() => await _world.DisposeAsync();

    static ByteArrayContent Zip(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new("application/zip");
        return content;
    }

    static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task A_backup_task_uploads_its_zip_and_a_verify_task_reads_it_back()
    {
        var runner = await _world.World.RegisterAsync("host");
        var backup = await _world.BackupAsync();
        var lease = await _world.TaskAsync(backup, runner.RunnerId);
        var body = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        using var http = _world.Runner(runner.Token);

        var put = await http.PutAsync(BackupWorld.ArtifactPath(backup, lease), Zip(body));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var stored = await put.Content.ReadFromJsonAsync<ArtifactStored>(Json);
        var sha = Convert.ToHexStringLower(SHA256.HashData(body));
        Assert.Equal(new ArtifactStored(body.Length, sha), stored);
        var row = await _world.RowAsync(backup);
        Assert.Equal(("local", $"{_world.ProjectId}/{await _world.BranchAsync()}/{backup}.zip", (long?)body.Length, sha),
            (row.Storage, row.StorageKey, row.SizeBytes, row.Sha256));
        var file = Path.Combine(_world.Folder, "store", row.StorageKey!);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(file)!));

        await _world.StoredAsync(backup, row.Storage!, row.StorageKey!, body.Length, sha);
        var verify = await _world.TaskAsync(backup, runner.RunnerId, kind: "verify");
        var get = await http.GetAsync(BackupWorld.ArtifactPath(backup, verify));
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal("application/zip", get.Content.Headers.ContentType?.MediaType);
        Assert.Equal(body.Length, get.Content.Headers.ContentLength);
        Assert.Equal(body, await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Callers_without_the_lease_are_refused_and_nothing_is_stored()
    {
        var host = await _world.World.RegisterAsync("host");
        var other = await _world.World.RegisterAsync("other");
        var body = Zip(RandomNumberGenerator.GetBytes(4096));
        using var hostHttp = _world.Runner(host.Token);
        using var otherHttp = _world.Runner(other.Token);
        using var anonymous = new HttpClient { BaseAddress = _world.World.Url };

        var backup = await _world.BackupAsync();
        var lease = await _world.TaskAsync(backup, host.RunnerId);
        await ProblemAsync(await anonymous.PutAsync(BackupWorld.ArtifactPath(backup, lease), body), HttpStatusCode.Unauthorized);
        await ProblemAsync(await anonymous.GetAsync(BackupWorld.ArtifactPath(backup, lease)), HttpStatusCode.Unauthorized);
        // Another runner presenting the host's lease (a stolen or guessed lease id is not enough).
        var stolen = await ProblemAsync(await otherHttp.PutAsync(BackupWorld.ArtifactPath(backup, lease), body), HttpStatusCode.Conflict);
        Assert.Equal("Lease lost", stolen.GetProperty("title").GetString());
        // The right runner with a lease id that is not the task's.
        await ProblemAsync(await hostHttp.PutAsync(BackupWorld.ArtifactPath(backup, Guid.NewGuid()), body), HttpStatusCode.Conflict);
        var missing = await ProblemAsync(await hostHttp.PutAsync(RunnerProtocolPath(backup), body), HttpStatusCode.BadRequest);
        Assert.True(missing.GetProperty("errors").TryGetProperty("lease_id", out _));
        await ProblemAsync(await hostHttp.PutAsync(BackupWorld.ArtifactPath(Guid.NewGuid(), lease), body), HttpStatusCode.NotFound);

        var finished = await _world.BackupAsync();
        var finishedLease = await _world.TaskAsync(finished, host.RunnerId, status: "succeeded");
        await ProblemAsync(await hostHttp.PutAsync(BackupWorld.ArtifactPath(finished, finishedLease), body), HttpStatusCode.Conflict);

        // A verify task reads a backup; it must not be able to replace it.
        var verified = await _world.BackupAsync();
        var verifyLease = await _world.TaskAsync(verified, host.RunnerId, kind: "verify");
        await ProblemAsync(await hostHttp.PutAsync(BackupWorld.ArtifactPath(verified, verifyLease), body), HttpStatusCode.Conflict);
        // Nor report it taken (the same rule as the upload's).
        await ProblemAsync(await BackupWorld.BackupDoneAsync(hostHttp, verified, verifyLease, "failed"), HttpStatusCode.Conflict);
        Assert.Equal("running", (await _world.RowAsync(verified)).Status);

        foreach (var refused in new[] { backup, finished, verified })
            Assert.Null((await _world.RowAsync(refused)).SizeBytes);
        Assert.False(Directory.Exists(Path.Combine(_world.Folder, "store")) &&
                     Directory.EnumerateFiles(Path.Combine(_world.Folder, "store"), "*", SearchOption.AllDirectories).Any());

        // Reads are refused the same way: another runner, a finished task.
        await _world.StoredAsync(backup, "local", $"{_world.ProjectId}/{await _world.BranchAsync()}/{backup}.zip", 1, new string('0', 64));
        var read = await _world.TaskAsync(backup, host.RunnerId, kind: "restore");
        await ProblemAsync(await otherHttp.GetAsync(BackupWorld.ArtifactPath(backup, read)), HttpStatusCode.Conflict);
        var readFinished = await _world.TaskAsync(backup, host.RunnerId, kind: "verify", status: "failed");
        await ProblemAsync(await hostHttp.GetAsync(BackupWorld.ArtifactPath(backup, readFinished)), HttpStatusCode.Conflict);
    }

    static string RunnerProtocolPath(Guid backupId) => BackupArtifact(backupId);

    [Fact]
    public async Task A_taken_backup_is_never_replaced()
    {
        var host = await _world.World.RegisterAsync("host");
        var backup = await _world.BackupAsync();
        var lease = await _world.TaskAsync(backup, host.RunnerId);
        using var http = _world.Runner(host.Token);
        var first = RandomNumberGenerator.GetBytes(1000);
        Assert.Equal(HttpStatusCode.OK, (await http.PutAsync(BackupWorld.ArtifactPath(backup, lease), Zip(first))).StatusCode);
        var row = await _world.RowAsync(backup);
        await _world.StoredAsync(backup, row.Storage!, row.StorageKey!, row.SizeBytes!.Value, row.Sha256!);

        // The task's lease is still running (a runner that reports done late, or a replayed request): the zip stays.
        var again = await ProblemAsync(await http.PutAsync(BackupWorld.ArtifactPath(backup, lease), Zip(RandomNumberGenerator.GetBytes(1000))), HttpStatusCode.Conflict);
        Assert.Contains("succeeded already", again.GetProperty("detail").GetString());
        Assert.Equal(first, await File.ReadAllBytesAsync(Path.Combine(_world.Folder, "store", row.StorageKey!)));
        Assert.Equal(row.Sha256, (await _world.RowAsync(backup)).Sha256);
    }

    [Fact]
    public async Task A_lease_past_its_time_holds_for_upload_read_and_report_until_the_rescuer_takes_it_back()
    {
        var host = await _world.World.RegisterAsync("late");
        using var http = _world.Runner(host.Token);
        var body = RandomNumberGenerator.GetBytes(4096);
        var sha = Convert.ToHexStringLower(SHA256.HashData(body));

        // Past its time but not taken back (a heartbeat that is late; nothing else can run the task meanwhile): the
        // upload, the report and a verification's read all go through, as every other call of the lease does.
        var backup = await _world.BackupAsync();
        var lease = await _world.TaskAsync(backup, host.RunnerId, leaseSeconds: -1);
        Assert.Equal(HttpStatusCode.OK, (await http.PutAsync(BackupWorld.ArtifactPath(backup, lease), Zip(body))).StatusCode);
        using (var done = await BackupWorld.BackupDoneAsync(http, backup, lease, "succeeded", Tasks.TaskWorld.Facts(body.Length, sha)))
            Assert.True(done.StatusCode == HttpStatusCode.NoContent, await done.Content.ReadAsStringAsync());
        Assert.Equal(("succeeded", (long?)body.Length, sha), ((await _world.RowAsync(backup)).Status, (await _world.RowAsync(backup)).SizeBytes,
            (await _world.RowAsync(backup)).Sha256));
        await _world.ExecAsync("update ops.runner_tasks set status = 'succeeded', finished_at = now() where lease_id = @lease", new { lease });
        var verify = await _world.TaskAsync(backup, host.RunnerId, kind: "verify", leaseSeconds: -1);
        Assert.Equal(body, await http.GetByteArrayAsync(BackupWorld.ArtifactPath(backup, verify)));

        // Taken back by the rescuer: the same runner with the same leases is refused every call, and nothing changes.
        var lost = await _world.BackupAsync();
        var lostLease = await _world.TaskAsync(lost, host.RunnerId, leaseSeconds: -1);
        Assert.Equal((2, 0, 0), await _world.RescueAsync()); // the lost backup's task and the verification, queued again
        var refused = await ProblemAsync(await http.PutAsync(BackupWorld.ArtifactPath(lost, lostLease), Zip(body)), HttpStatusCode.Conflict);
        Assert.Equal("Lease lost", refused.GetProperty("title").GetString());
        await ProblemAsync(await BackupWorld.BackupDoneAsync(http, lost, lostLease, "failed"), HttpStatusCode.Conflict);
        await ProblemAsync(await http.GetAsync(BackupWorld.ArtifactPath(backup, verify)), HttpStatusCode.Conflict);
        var record = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => _world.ExecAsync(
            "select ops.record_backup_artifact(@runner, @lost, @lostLease, 'local', 'k', 1, repeat('0', 64))", new { runner = host.RunnerId, lost, lostLease }));
        Assert.Equal("OOL01", record.SqlState);
        var row = await _world.RowAsync(lost);
        Assert.Equal(("pending", null, null), (row.Status, row.StorageKey, row.SizeBytes));
        Assert.Single(Directory.EnumerateFiles(Path.Combine(_world.Folder, "store"), "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task The_build_that_takes_a_pre_deploy_backup_uploads_and_reads_it_and_no_other_build_can()
    {
        var host = await _world.World.RegisterAsync("host");
        var (build, lease) = await _world.LeasedBuildAsync(host.RunnerId);
        var (_, otherLease) = await _world.LeasedBuildAsync(host.RunnerId, "feature-x");
        var backup = await _world.BackupAsync(status: "pending", buildId: build, kind: "pre-deploy");
        using var http = _world.Runner(host.Token);
        var body = RandomNumberGenerator.GetBytes(2048);

        await ProblemAsync(await http.PutAsync(BackupWorld.ArtifactPath(backup, otherLease), Zip(body)), HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.OK, (await http.PutAsync(BackupWorld.ArtifactPath(backup, lease), Zip(body))).StatusCode);
        var row = await _world.RowAsync(backup);
        await _world.StoredAsync(backup, row.Storage!, row.StorageKey!, row.SizeBytes!.Value, row.Sha256!);
        Assert.Equal(body, await http.GetByteArrayAsync(BackupWorld.ArtifactPath(backup, lease))); // the revert reads it back
        await ProblemAsync(await http.GetAsync(BackupWorld.ArtifactPath(backup, otherLease)), HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task A_staging_build_reads_a_production_backup_of_its_project_and_no_development_build_or_other_project_does()
    {
        var host = await _world.World.RegisterAsync("host");
        var backup = await _world.BackupAsync();
        var key = $"{_world.ProjectId}/{await _world.BranchAsync()}/{backup}.zip";
        var body = RandomNumberGenerator.GetBytes(512);
        var stored = await _world.Stores.Current.PutAsync(key, new MemoryStream(body), 1 << 20, CancellationToken.None);
        await _world.StoredAsync(backup, "local", key, stored.SizeBytes, stored.Sha256);
        var (_, staging) = await _world.LeasedBuildAsync(host.RunnerId, "staging");
        var (_, development) = await _world.LeasedBuildAsync(host.RunnerId, "feature-x");
        using var http = _world.Runner(host.Token);

        Assert.Equal(body, await http.GetByteArrayAsync(BackupWorld.ArtifactPath(backup, staging)));
        await ProblemAsync(await http.GetAsync(BackupWorld.ArtifactPath(backup, development)), HttpStatusCode.Conflict);
        // A staging build of another project of the same organisation, on the same runner: not its production's data.
        var other = await Accounts.CreateProjectAsync(_world.World.Owner, _world.World.OrgId, "other-shop");
        var (_, foreign) = await _world.LeasedBuildAsync(host.RunnerId, "staging", other);
        await ProblemAsync(await http.GetAsync(BackupWorld.ArtifactPath(backup, foreign)), HttpStatusCode.Conflict);
        // Reading is all a staging build may do with it.
        await ProblemAsync(await http.PutAsync(BackupWorld.ArtifactPath(backup, staging), Zip(body)), HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task A_body_declared_larger_than_the_limit_is_413_before_it_is_read()
    {
        var host = await _world.World.RegisterAsync("host");
        var backup = await _world.BackupAsync();
        var lease = await _world.TaskAsync(backup, host.RunnerId);
        // Raw HTTP: a client library will not announce a body it does not send.
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(_world.World.Url.Host, _world.World.Url.Port);
        await using var stream = tcp.GetStream();
        var request = $"PUT {BackupWorld.ArtifactPath(backup, lease)} HTTP/1.1\r\nHost: {_world.World.Url.Authority}\r\nAuthorization: Bearer {host.Token}\r\n" +
                      $"Content-Type: application/zip\r\nContent-Length: {101L * 1024 * 1024 * 1024}\r\n\r\n";
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream);
        Assert.StartsWith("HTTP/1.1 413", await reader.ReadLineAsync());
        Assert.Null((await _world.RowAsync(backup)).SizeBytes);
    }
}
