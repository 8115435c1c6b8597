using System.IO.Compression;
using System.Text;
using OdooOps.Runners.Agent.Backups;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Runners.Backups;

/// <summary>
/// Restores of zips a user may bring: Odoo's own (plain SQL, run by psql in the sandbox), and hostile ones — psql
/// meta-commands that would run on the host, paths that climb out of the filestore, links, bombs. Each hostile one
/// must leave nothing behind: no database, no file outside, no half-extracted folder.
/// </summary>
public sealed class BackupRestorerTests(PostgresCluster cluster) : IAsyncLifetime
{
    BackupWorld _world = null!;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _world = await BackupWorld.CreateAsync(cluster);
    public ValueTask DisposeAsync() => _world.DisposeAsync();

    OdooData Target(Guid project) =>
        new(project, false, BackupWorld.NewDatabase("oo-restore"), Path.Combine(_world.Folder("restored"), "filestore", "db"));

    /// <summary>Odoo's download: dump.sql (pg_dump's plain SQL), the filestore and Odoo's manifest, deflated.</summary>
    async Task<string> OdooZipAsync(OdooData source, string extraSql = "")
    {
        var sql = Path.Combine(_world.Folder("sql"), "dump.sql");
        var dump = await _world.Postgres.RunClientToolAsync("pg_dump",
            ["--format=plain", "--no-owner", "--no-privileges", "--file", sql, "--dbname", source.DatabaseName],
            new Dictionary<string, string>(_world.Server.ProjectClientEnvironment(source.ProjectId, source.Production)), Ct);
        Assert.True(dump.ExitCode == 0, dump.Describe());
        await File.AppendAllTextAsync(sql, extraSql, Ct);
        var zip = Path.Combine(_world.Folder("zips"), "odoo.zip");
        using var archive = ZipFile.Open(zip, ZipArchiveMode.Create);
        archive.CreateEntryFromFile(sql, "dump.sql", CompressionLevel.Optimal);
        foreach (var file in Directory.EnumerateFiles(source.FilestoreFolder, "*", SearchOption.AllDirectories))
            archive.CreateEntryFromFile(file, "filestore/" + Path.GetRelativePath(source.FilestoreFolder, file), CompressionLevel.Optimal);
        using (var manifest = new StreamWriter(archive.CreateEntry("manifest.json").Open()))
            await manifest.WriteAsync($$"""
                {"odoo_dump": "1", "db_name": "{{source.DatabaseName}}", "version": "17.0", "major_version": "17.0", "pg_version": "15.0",
                 "modules": {"base": "17.0.1.3"} }
                """);
        return zip;
    }

    [Fact]
    public async Task Odoos_own_zip_with_plain_sql_is_restored_by_psql_in_the_sandbox()
    {
        var project = Guid.NewGuid();
        var source = await BackupRoundTripTests.RichSourceAsync(_world, project, _world.Folder("data"));
        var zip = await OdooZipAsync(source);
        var target = Target(project);
        Directory.CreateDirectory(Path.GetDirectoryName(target.FilestoreFolder)!);

        var restored = await _world.Restorer.RestoreAsync(zip, target, null, null, Ct);

        Assert.True(restored.PlainSql);
        Assert.Null(restored.Manifest.Facts);
        Assert.Equal("17.0.1.3", restored.Manifest.InstalledModules["base"]);
        Assert.Equal(await _world.ContentsAsync(source.DatabaseName), await _world.ContentsAsync(target.DatabaseName));
        Assert.Equal(BackupWorld.Files(source.FilestoreFolder), BackupWorld.Files(target.FilestoreFolder));
    }

    [Fact]
    public async Task Psql_commands_in_a_plain_sql_dump_never_run_on_the_host()
    {
        var project = Guid.NewGuid();
        var source = await _world.OdooDatabaseAsync(project, _world.Folder("data"));
        var host = _world.Folder("host");
        // What a hostile dump.sql can ask psql for: a shell, a program, a file written, a file read.
        var zip = await OdooZipAsync(source, $"""

            \! id -u; touch {host}/pwned-shell 2>/dev/null; true
            \copy (select 1) to program 'cat >/dev/null; touch {host}/pwned-program 2>/dev/null; true'
            \! cat /etc/shadow {_world.Cluster.Server.DataDir}/odoo-db-password 2>&1 | head -c 200; echo; true
            """);
        var target = Target(project);
        Directory.CreateDirectory(Path.GetDirectoryName(target.FilestoreFolder)!);
        var log = new List<string>();

        await _world.Restorer.RestoreAsync(zip, target, null, line => { lock (log) log.Add(line); }, Ct);

        // They ran — in the sandbox, as its throwaway uid, which sees neither the host's folders nor its secrets.
        Assert.Empty(Directory.GetFileSystemEntries(host));
        var uid = Assert.Single(log, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^psql: \d+$"));
        Assert.True(long.Parse(uid["psql: ".Length..]) >= 900_000_000, uid);
        Assert.DoesNotContain(log, l => l.Contains("root:"));
        Assert.DoesNotContain(log, l => l.Contains(File.ReadAllText(Path.Combine(_world.Cluster.Server.DataDir, "odoo-db-password")).Trim()));
        Assert.True(await _world.DatabaseExistsAsync(target.DatabaseName));
    }

    [Fact]
    public async Task A_cancelled_restore_leaves_no_database_and_no_files()
    {
        var project = Guid.NewGuid();
        var source = await _world.OdooDatabaseAsync(project, _world.Folder("data"));
        // The dump says where it is, then takes its time: the cancel comes while psql runs.
        var zip = await OdooZipAsync(source, "\n\\! echo restoring-now\n\\! sleep 120\n");
        var target = Target(project);
        var parent = Directory.CreateDirectory(Path.GetDirectoryName(target.FilestoreFolder)!).FullName;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _world.Restorer.RestoreAsync(zip, target, null, line =>
        {
            if (line == "psql: restoring-now") cancel.Cancel();
        }, cancel.Token));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(100), "psql was not stopped");
        Assert.False(await _world.DatabaseExistsAsync(target.DatabaseName));
        Assert.Empty(Directory.GetFileSystemEntries(parent));
    }

    /// <summary>A zip with a valid-looking dump and manifest, plus <paramref name="hostile"/> (name, bytes, unix mode).</summary>
    string HostileZip(params (string Name, byte[] Bytes, int Mode)[] hostile)
    {
        var zip = Path.Combine(_world.Folder("zips"), "hostile.zip");
        using var archive = ZipFile.Open(zip, ZipArchiveMode.Create);
        archive.CreateEntry("dump.dump").Open().Dispose();
        foreach (var (name, bytes, mode) in hostile)
        {
            var entry = archive.CreateEntry(name);
            if (mode != 0) entry.ExternalAttributes = mode << 16;
            using var stream = entry.Open();
            stream.Write(bytes);
        }
        using (var manifest = new StreamWriter(archive.CreateEntry("manifest.json").Open()))
            manifest.Write("""{"odoo_dump": "1", "modules": {}}""");
        return zip;
    }

    [Theory]
    [InlineData("filestore/../../escaped", "unsafe path")]
    [InlineData("filestore/ab/../../../escaped", "unsafe path")]
    [InlineData("/tmp/escaped-absolute", "unsafe path")]
    [InlineData("filestore/..\\..\\escaped", "unsafe path")]
    [InlineData("filestore/./x", "unsafe path")]
    [InlineData("filestore//x", "unsafe path")]
    [InlineData("link", "symbolic link")]
    public async Task A_zip_that_climbs_out_or_links_out_is_refused_before_anything_is_made(string name, string reason)
    {
        var project = Guid.NewGuid();
        var target = Target(project);
        var parent = Directory.CreateDirectory(Path.GetDirectoryName(target.FilestoreFolder)!).FullName;
        var zip = name == "link"
            ? HostileZip(("filestore/ab/link", Encoding.UTF8.GetBytes("/etc"), 0xA1FF), ("filestore/ab/link/passwd", "x"u8.ToArray(), 0))
            : HostileZip((name, "pwned"u8.ToArray(), 0));

        var refused = await Assert.ThrowsAsync<BackupException>(() => _world.Restorer.RestoreAsync(zip, target, null, null, Ct));

        Assert.Contains(reason, refused.Message);
        Assert.False(await _world.DatabaseExistsAsync(target.DatabaseName));
        Assert.Empty(Directory.GetFileSystemEntries(parent));
        Assert.False(File.Exists("/tmp/escaped-absolute"));
        foreach (var folder in new[] { parent, Path.GetDirectoryName(parent)!, Path.GetDirectoryName(Path.GetDirectoryName(parent)!)! })
            Assert.False(File.Exists(Path.Combine(folder, "escaped")), folder);
        Assert.Equal(["hostile.zip"], Directory.GetFileSystemEntries(Path.GetDirectoryName(zip)!).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_zip_bomb_stops_at_the_limit_and_what_was_restored_is_removed()
    {
        var project = Guid.NewGuid();
        var source = await _world.OdooDatabaseAsync(project, _world.Folder("data"));
        var (zip, _, _) = await _world.BackupAsync(source);
        // 64 MiB of zeros deflate to a few dozen KiB.
        var bomb = Path.Combine(Path.GetDirectoryName(zip)!, "bomb.zip");
        File.Copy(zip, bomb);
        using (var archive = ZipFile.Open(bomb, ZipArchiveMode.Update))
        using (var stream = archive.CreateEntry("filestore/zz/bomb", CompressionLevel.SmallestSize).Open())
            for (var i = 0; i < 64; i++) stream.Write(new byte[1 << 20]);
        var target = Target(project);
        var parent = Directory.CreateDirectory(Path.GetDirectoryName(target.FilestoreFolder)!).FullName;

        var refused = await Assert.ThrowsAsync<BackupException>(() => _world.Restorer.RestoreAsync(bomb, target,
            new RestoreOptions { Limits = new RestoreLimits { MaxExpansion = 4 } }, null, Ct));

        Assert.Contains("expands to more than", refused.Message);
        Assert.False(await _world.DatabaseExistsAsync(target.DatabaseName));
        Assert.Empty(Directory.GetFileSystemEntries(parent));
    }

    [Fact]
    public async Task A_zip_of_too_many_entries_is_refused_from_its_end_record()
    {
        // More than 65535 entries: the count is in the ZIP64 end record.
        var zip = HostileZip([.. Enumerable.Range(0, 70_000).Select(i => ($"filestore/{i % 100:x2}/{i}", Array.Empty<byte>(), 0))]);
        var target = Target(Guid.NewGuid());
        var parent = Directory.CreateDirectory(Path.GetDirectoryName(target.FilestoreFolder)!).FullName;

        var refused = await Assert.ThrowsAsync<BackupException>(() => _world.Restorer.RestoreAsync(zip, target,
            new RestoreOptions { Limits = new RestoreLimits { MaxEntries = 69_999 } }, null, Ct));

        Assert.Equal("The backup declares more than 69999 entries; refused.", refused.Message);
        Assert.Empty(Directory.GetFileSystemEntries(parent));
        // Under the limit, the same zip gets as far as its dump (empty here, which pg_restore refuses).
        refused = await Assert.ThrowsAsync<BackupException>(() => _world.Restorer.RestoreAsync(zip, target,
            new RestoreOptions { Limits = new RestoreLimits { MaxEntries = 70_002 } }, null, Ct));
        Assert.StartsWith("pg_restore failed", refused.Message);
    }

    [Fact]
    public async Task A_dump_pg_restore_refuses_and_an_occupied_folder_leave_nothing_behind()
    {
        var project = Guid.NewGuid();
        var target = Target(project);
        var parent = Directory.CreateDirectory(Path.GetDirectoryName(target.FilestoreFolder)!).FullName;
        var zip = HostileZip(("filestore/ab/file", "content"u8.ToArray(), 0));

        var refused = await Assert.ThrowsAsync<BackupException>(() => _world.Restorer.RestoreAsync(zip, target, null, null, Ct));
        Assert.StartsWith("pg_restore failed (exit code 1): pg_restore: error:", refused.Message);
        Assert.False(await _world.DatabaseExistsAsync(target.DatabaseName));
        Assert.Empty(Directory.GetFileSystemEntries(parent));

        Directory.CreateDirectory(target.FilestoreFolder);
        await File.WriteAllTextAsync(Path.Combine(target.FilestoreFolder, "kept"), "live data", Ct);
        refused = await Assert.ThrowsAsync<BackupException>(() => _world.Restorer.RestoreAsync(zip, target, null, null, Ct));
        Assert.Equal($"{target.FilestoreFolder} exists and is not empty.", refused.Message);
        Assert.False(await _world.DatabaseExistsAsync(target.DatabaseName));
        Assert.Equal("live data", await File.ReadAllTextAsync(Path.Combine(target.FilestoreFolder, "kept"), Ct));
    }
}
