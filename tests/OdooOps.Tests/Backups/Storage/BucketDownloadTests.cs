using System.IO.Compression;
using System.Net;
using Npgsql;
using Dapper;
using OdooOps.Backups.Storage;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Backups.Storage;

/// <summary>
/// Downloads from a backup kept in a real s3rver bucket: the zip is read through ranged requests (its directory at the
/// end first) and its custom dump piped through pg_restore; with the bucket gone, the link answers 503 with
/// Retry-After before any byte, never a 500 or a cut-off zip.
/// </summary>
public sealed class BucketDownloadTests(PostgresCluster cluster) : IAsyncLifetime
{
    S3rver _s3 = null!;
    BackupWorld _world = null!;

    public async ValueTask InitializeAsync()
    {
        _s3 = await S3rver.StartAsync();
        _world = await BackupWorld.StartAsync(cluster, _s3.Settings());
    }

    public async ValueTask DisposeAsync()
    {
        await _world.DisposeAsync();
        await _s3.DisposeAsync();
    }

    [Fact]
    public async Task A_backup_in_the_bucket_downloads_as_Odoos_zip_and_a_gone_bucket_is_503()
    {
        var source = await cluster.CreateEmptyDatabaseAsync("bucket");
        await using (var conn = new NpgsqlConnection(source.ConnectionString))
        {
            await conn.OpenAsync();
            await conn.ExecuteAsync("create table ir_attachment (id int primary key, name text); insert into ir_attachment select i, 'file ' || i from generate_series(1, 100) i;");
        }
        var backup = await _world.BackupAsync();
        var key = BackupKeys.For(_world.ProjectId, await _world.BranchAsync(), backup);
        var stored = await _world.Stores.Current.PutAsync(key, new MemoryStream(BackupZips.Ours(await BackupZips.DumpAsync(source))), 1L << 30, default);
        Assert.Equal("s3", _world.Stores.Current.Name);
        await _world.StoredAsync(backup, "s3", key, stored.SizeBytes, stored.Sha256);
        using var http = new HttpClient { BaseAddress = _world.World.Url };

        var response = await http.GetAsync(_world.Links.Create(backup).Path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using (var zip = new ZipArchive(new MemoryStream(await response.Content.ReadAsByteArrayAsync()), ZipArchiveMode.Read))
        {
            using var reader = new StreamReader(zip.GetEntry("dump.sql")!.Open());
            var sql = await reader.ReadToEndAsync();
            Assert.Contains("CREATE TABLE public.ir_attachment", sql);
            Assert.Contains("100\tfile 100", sql);
            Assert.NotNull(zip.GetEntry(BackupZips.FilePath));
        }

        await _s3.StopAsync();
        var down = await http.GetAsync(_world.Links.Create(backup).Path);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.Equal("application/problem+json", down.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(down.Headers.RetryAfter);
    }
}
