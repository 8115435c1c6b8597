using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Npgsql;
using OdooOps.Backups.Storage;
using OdooOps.Database;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Scheduler;

namespace OdooOps.Tests.Backups.Storage;

/// <summary>
/// Downloads through signed links, without a session: Odoo's zip with a dump.sql made from the stored custom archive,
/// which psql restores into a database holding the same rows, the filestore and manifest as they were, named
/// project-branch-date. Expired, tampered and borrowed links are refused before anything is read; so is a deleted backup.
/// </summary>
public sealed class BackupDownloadTests(PostgresCluster cluster) : IAsyncLifetime
{
    BackupWorld _world = null!;

    public async ValueTask InitializeAsync() => _world = await BackupWorld.StartAsync(cluster);

    public async ValueTask DisposeAsync() => await _world.DisposeAsync();

    /// <summary>A taken backup whose stored zip is <paramref name="zip"/>.</summary>
    async Task<Guid> StoredBackupAsync(byte[] zip)
    {
        var backup = await _world.BackupAsync();
        var key = BackupKeys.For(_world.ProjectId, await _world.BranchAsync(), backup);
        var stored = await _world.Stores.Current.PutAsync(key, new MemoryStream(zip), 1L << 30, default);
        await _world.StoredAsync(backup, "local", key, stored.SizeBytes, stored.Sha256);
        return backup;
    }

    static HttpClient Anonymous(BackupWorld world) => new() { BaseAddress = world.World.Url };

    [Fact]
    public async Task The_download_is_Odoos_zip_whose_dump_sql_psql_restores_to_the_same_rows()
    {
        var source = await cluster.CreateEmptyDatabaseAsync("shop");
        await using (var conn = new NpgsqlConnection(source.ConnectionString))
        {
            await conn.OpenAsync();
            await conn.ExecuteAsync("""
                create table res_partner (id serial primary key, name text not null, note text);
                insert into res_partner (name, note) select 'Partner ' || i, case when i % 3 = 0 then E'it''s \\ "quoted"\ttab' end from generate_series(1, 2500) i;
                insert into res_partner (name) values ('Ünïcødé €');
                """);
        }
        var backup = await StoredBackupAsync(BackupZips.Ours(await BackupZips.DumpAsync(source)));
        var link = _world.Links.Create(backup);
        Assert.InRange(link.ExpiresAt - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(14), TimeSpan.FromMinutes(15));

        using var http = Anonymous(_world);
        var response = await http.GetAsync(link.Path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/zip", response.Content.Headers.ContentType?.MediaType);
        var created = await CreatedAtAsync(backup);
        Assert.Equal($"app-main-{created:yyyy-MM-dd_HH-mm-ss}.zip", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        var bytes = await response.Content.ReadAsByteArrayAsync();

        using var zip = new ZipArchive(new MemoryStream(bytes), ZipArchiveMode.Read);
        Assert.Equal(["dump.sql", "filestore/ab/", BackupZips.FilePath, "manifest.json"], zip.Entries.Select(e => e.FullName));
        Assert.Equal(BackupZips.FileBytes, Read(zip.GetEntry(BackupZips.FilePath)!));
        Assert.Equal(BackupZips.Manifest, System.Text.Encoding.UTF8.GetString(Read(zip.GetEntry("manifest.json")!)));
        var sql = Read(zip.GetEntry("dump.sql")!);

        // Restored as Odoo's database manager does: psql into a new database.
        var target = await cluster.CreateEmptyDatabaseAsync("restored");
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(file, sql);
            var result = await PostgresBinaries.Locate().RunClientToolAsync("psql",
                ["--host", target.Host!, "--port", target.Port.ToString(), "--username", target.Username!, "--no-password", "--no-psqlrc",
                 "--set", "ON_ERROR_STOP=1", "--quiet", "--file", file, target.Database!],
                new Dictionary<string, string> { ["PGPASSWORD"] = target.Password ?? "" });
            Assert.True(result.ExitCode == 0, result.Describe());
        }
        finally { File.Delete(file); }
        Assert.Equal(await RowsAsync(source), await RowsAsync(target));
    }

    static byte[] Read(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    static async Task<List<string>> RowsAsync(NpgsqlConnectionStringBuilder database)
    {
        await using var conn = new NpgsqlConnection(database.ConnectionString);
        await conn.OpenAsync();
        return [.. await conn.QueryAsync<string>("select format('%s|%s|%s', id, name, note) from res_partner order by id")];
    }

    async Task<DateTime> CreatedAtAsync(Guid backup)
    {
        await using var conn = await Accounts.OpenAsync(_world.World.Owner);
        return await conn.ExecuteScalarAsync<DateTime>("select created_at from ops.backups where id = @backup", new { backup });
    }

    [Fact]
    public async Task An_imported_Odoo_zip_downloads_with_its_dump_sql_as_it_was()
    {
        const string sql = "create table t (x int);\ninsert into t values (1);\n";
        var backup = await StoredBackupAsync(BackupZips.Odoos(sql));
        using var http = Anonymous(_world);
        using var zip = new ZipArchive(new MemoryStream(await http.GetByteArrayAsync(_world.Links.Create(backup).Path)), ZipArchiveMode.Read);
        Assert.Equal(sql, System.Text.Encoding.UTF8.GetString(Read(zip.GetEntry("dump.sql")!)));
    }

    [Fact]
    public async Task Expired_tampered_borrowed_and_malformed_links_are_401_and_a_deleted_backup_is_404()
    {
        var backup = await StoredBackupAsync(BackupZips.Odoos("select 1;\n"));
        var other = await StoredBackupAsync(BackupZips.Odoos("select 2;\n"));
        using var http = Anonymous(_world);
        var good = _world.Links.Create(backup).Path;
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(good)).StatusCode);

        // Minted 16 minutes ago by the same server (same key): its 15 minutes are over.
        var past = new BackupLinks(TestHosts.Secrets, new ManualClock(DateTimeOffset.UtcNow - TimeSpan.FromMinutes(16)), TimeSpan.FromMinutes(15));
        var expired = past.Create(backup).Path;
        var query = System.Web.HttpUtility.ParseQueryString(new Uri(_world.World.Url, good).Query);
        var (expires, sig) = (query["expires"]!, query["sig"]!);
        var flipped = sig[..10] + (sig[10] == 'a' ? 'b' : 'a') + sig[11..];
        string[] refused =
        [
            expired,
            $"/api/ops/backups/{backup}/download?expires={expires}&sig={flipped}", // one digit of the signature changed
            $"/api/ops/backups/{backup}/download?expires={long.Parse(expires) + 3600}&sig={sig}", // expiry pushed back
            $"/api/ops/backups/{other}/download?expires={expires}&sig={sig}", // another backup's link
            $"/api/ops/backups/{backup}/download?expires={expires}&sig={sig.ToUpperInvariant()}",
            $"/api/ops/backups/{backup}/download?expires={expires}",
            $"/api/ops/backups/{backup}/download",
            $"/api/ops/backups/{backup}/download?expires=-1&sig={sig}",
            $"/api/ops/backups/{backup}/download?expires={expires}&sig={sig[..62]}",
        ];
        foreach (var path in refused)
        {
            var response = await http.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{path}: {response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        // A key of another server (another secrets key) signs nothing this one accepts.
        var stranger = new BackupLinks(new OdooOps.Secrets.OpsSecrets(new Dictionary<string, string>(), OdooOps.Secrets.SecretsKey.Generate()),
            TimeProvider.System, TimeSpan.FromMinutes(15));
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(stranger.Create(backup).Path)).StatusCode);

        await using (var conn = await Accounts.OpenAsync(_world.World.Owner))
            await conn.ExecuteAsync("update ops.backups set deleted_at = now() where id = @backup", new { backup });
        var gone = await http.GetAsync(good);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public void A_link_is_good_until_it_expires_and_for_its_backup_only()
    {
        var clock = new ManualClock(DateTimeOffset.Parse("2025-05-01T03:00:00Z"));
        var links = new BackupLinks(TestHosts.Secrets, clock, TimeSpan.FromMinutes(15));
        var backup = Guid.NewGuid();
        var link = links.Create(backup);
        Assert.Equal(DateTimeOffset.Parse("2025-05-01T03:15:00Z"), link.ExpiresAt);
        var query = System.Web.HttpUtility.ParseQueryString(link.Path[link.Path.IndexOf('?')..]);
        Assert.True(links.IsValid(backup, query["expires"], query["sig"]));
        Assert.False(links.IsValid(Guid.NewGuid(), query["expires"], query["sig"]));
        clock.Advance(TimeSpan.FromMinutes(15) - TimeSpan.FromSeconds(1));
        Assert.True(links.IsValid(backup, query["expires"], query["sig"]));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.False(links.IsValid(backup, query["expires"], query["sig"]));
        // A longer life than the setting's is not granted; a shorter one is.
        Assert.Equal(clock.GetUtcNow() + TimeSpan.FromMinutes(15), links.Create(backup, TimeSpan.FromDays(1)).ExpiresAt);
        Assert.Equal(clock.GetUtcNow() + TimeSpan.FromMinutes(2), links.Create(backup, TimeSpan.FromMinutes(2)).ExpiresAt);
    }

    [Fact]
    public async Task A_stored_zip_that_is_not_a_backup_is_409_before_anything_is_sent()
    {
        var backup = await StoredBackupAsync(System.Text.Encoding.UTF8.GetBytes("not a zip at all"));
        using var http = Anonymous(_world);
        var response = await http.GetAsync(_world.Links.Create(backup).Path);
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
