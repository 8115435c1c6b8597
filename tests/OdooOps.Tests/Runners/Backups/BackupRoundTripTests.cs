using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Dapper;
using Npgsql;
using OdooOps.Runners.Agent.Backups;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Runners.Backups;

/// <summary>
/// A backup written to a stream that cannot seek (as the body of an upload), then restored into a new database and
/// folder, must bring back exactly the rows and files it held; its zip must be what the format says (stored entries,
/// dump first, manifest last) and its facts must describe the bytes written.
/// </summary>
public sealed class BackupRoundTripTests(PostgresCluster cluster) : IAsyncLifetime
{
    BackupWorld _world = null!;

    public async ValueTask InitializeAsync() => _world = await BackupWorld.CreateAsync(cluster);
    public ValueTask DisposeAsync() => _world.DisposeAsync();

    /// <summary>A stand-in Odoo database with rows of every kind and a filestore of every shape of file.</summary>
    internal static async Task<OdooData> RichSourceAsync(BackupWorld world, Guid project, string dataDir, string version = "17.0")
    {
        var source = await world.OdooDatabaseAsync(project, dataDir, version: version);
        await using (var conn = new NpgsqlConnection(world.Server.ProjectConnection(project, false, source.DatabaseName).ConnectionString))
        {
            await conn.OpenAsync();
            await conn.ExecuteAsync("""
                create table x_things (id serial primary key, name text, data bytea, props jsonb, at timestamptz, amount numeric(12, 2));
                insert into x_things (name, data, props, at, amount)
                select 'thing ' || g || ' é€', decode(md5(g::text), 'hex'), jsonb_build_object('n', g, 'tags', array['a', 'b']),
                       timestamptz '2024-01-01 00:00:00+00' + g * interval '1 hour', g * 1.25
                  from generate_series(1, 5000) g;
                insert into x_things (name) values (null);
                create index x_things_name on x_things (name);
                """);
        }
        var folder = source.FilestoreFolder;
        File.WriteAllBytes(Path.Combine(folder, "big.bin"), RandomNumberGenerator.GetBytes((3 << 20) + 12345));
        File.WriteAllBytes(Path.Combine(folder, "empty"), []);
        Directory.CreateDirectory(Path.Combine(folder, "checklist", "deep"));
        File.WriteAllText(Path.Combine(folder, "checklist", "deep", "café noté.txt"), "un fichier");
        return source;
    }

    [Fact]
    public async Task A_backup_written_to_a_stream_that_cannot_seek_restores_exactly_its_rows_and_files()
    {
        var project = Guid.NewGuid();
        var source = await RichSourceAsync(_world, project, _world.Folder("data"));
        var (zip, facts, _) = await _world.BackupAsync(source);

        // The facts describe the bytes written and what they hold.
        var bytes = await File.ReadAllBytesAsync(zip, TestContext.Current.CancellationToken);
        Assert.Equal(bytes.LongLength, facts.SizeBytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), facts.Sha256);
        Assert.Equal("17.0", facts.OdooVersion);
        Assert.Contains(facts.Modules, m => m is { Name: "sale", State: "installed", Version: "17.0.1.0" });
        var sourceFiles = BackupWorld.Files(source.FilestoreFolder);
        Assert.Equal(sourceFiles.Count, facts.FilestoreFiles);
        Assert.Equal(new DirectoryInfo(source.FilestoreFolder).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length), facts.FilestoreBytes);
        await using (var conn = await _world.SuperConnectAsync(source.DatabaseName))
            Assert.Equal(await conn.ExecuteScalarAsync<int>("select count(*) from pg_tables where schemaname = 'public'"), facts.TableCount);

        // The zip: stored entries, the dump first, the manifest last, Odoo's manifest keys and ours.
        using (var archive = ZipFile.OpenRead(zip))
        {
            Assert.Equal("dump.dump", archive.Entries[0].FullName);
            Assert.Equal("manifest.json", archive.Entries[^1].FullName);
            Assert.Equal(sourceFiles.Keys.Select(k => "filestore/" + k).Order(StringComparer.Ordinal),
                archive.Entries.Where(e => e.FullName.StartsWith("filestore/")).Select(e => e.FullName).Order(StringComparer.Ordinal));
            Assert.All(archive.Entries, e => Assert.Equal(e.Length, e.CompressedLength));
            using var manifest = JsonDocument.Parse(archive.Entries[^1].Open());
            var root = manifest.RootElement;
            Assert.Equal("1", root.GetProperty("odoo_dump").GetString());
            Assert.Equal(source.DatabaseName, root.GetProperty("db_name").GetString());
            Assert.Equal("17.0", root.GetProperty("major_version").GetString());
            Assert.Equal("17.0.1.0", root.GetProperty("modules").GetProperty("sale").GetString());
            Assert.Equal(facts.FilestoreSha256, root.GetProperty("odooops").GetProperty("filestore_sha256").GetString());
            Assert.Equal(facts.TableCount, root.GetProperty("odooops").GetProperty("table_count").GetInt32());
        }
        // Python's zipfile (Odoo's reader) checks every entry's CRC.
        var python = Process.Start(new ProcessStartInfo("python3", ["-c", "import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).testzip())", zip])
            { RedirectStandardOutput = true })!;
        Assert.Equal("None", (await python.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken)).Trim());

        // Restored into a new database and folder: the same rows, sequences and files.
        var target = new OdooData(project, false, BackupWorld.NewDatabase(), Path.Combine(_world.Folder("restored"), "filestore", "copy"));
        Directory.CreateDirectory(Path.GetDirectoryName(target.FilestoreFolder)!);
        var restored = await _world.Restorer.RestoreAsync(zip, target, new RestoreOptions { FilestoreOwner = 900_000_321 }, null,
            TestContext.Current.CancellationToken);

        Assert.False(restored.PlainSql);
        Assert.Equal(facts.FilestoreSha256, restored.FilestoreSha256);
        Assert.Equal(await _world.ContentsAsync(source.DatabaseName), await _world.ContentsAsync(target.DatabaseName));
        Assert.Equal(sourceFiles, BackupWorld.Files(target.FilestoreFolder));
        // The files are the instance's uid's (its Odoo writes there), the database the project's role's.
        var owners = await OdooOps.Database.ProcessRunner.RunAsync("bash", ["-c", $"find '{target.FilestoreFolder}' -printf '%U\\n' | sort -u"], null, default);
        Assert.Equal("900000321", owners.Output.Trim());
        await using (var conn = await _world.SuperConnectAsync("postgres"))
            Assert.Equal(OdooOps.Runners.Agent.Instances.OdooDatabaseServer.ProjectRole(project, false),
                await conn.ExecuteScalarAsync<string>("select pg_get_userbyid(datdba) from pg_database where datname = @db", new { db = target.DatabaseName }));
        // Nothing of the work is left beside the filestore or the zip.
        Assert.Equal(["copy"], Directory.GetFileSystemEntries(Path.GetDirectoryName(target.FilestoreFolder)!).Select(Path.GetFileName));
        Assert.Equal(["backup.zip"], Directory.GetFileSystemEntries(Path.GetDirectoryName(zip)!).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_filestore_link_is_never_followed_and_a_linked_filestore_is_refused()
    {
        var project = Guid.NewGuid();
        var source = await _world.OdooDatabaseAsync(project, _world.Folder("data"));
        var files = Directory.GetFiles(source.FilestoreFolder, "*", SearchOption.AllDirectories).Length;
        // What the tenant's Odoo could do in its own data dir: point into the host (or another tenant's filestore).
        var secrets = _world.Folder("host");
        await File.WriteAllTextAsync(Path.Combine(secrets, "shadow"), "root:HOST-SECRET", TestContext.Current.CancellationToken);
        File.CreateSymbolicLink(Path.Combine(source.FilestoreFolder, "stolen"), Path.Combine(secrets, "shadow"));
        Directory.CreateSymbolicLink(Path.Combine(source.FilestoreFolder, "stolen-folder"), secrets);
        // A FIFO no one writes to would hang a reader that opened it as a file.
        Assert.Equal(0, (await OdooOps.Database.ProcessRunner.RunAsync("mkfifo", [Path.Combine(source.FilestoreFolder, "pipe")], null, default)).ExitCode);
        var (zip, facts, log) = await _world.BackupAsync(source);

        Assert.DoesNotContain("HOST-SECRET", System.Text.Encoding.Latin1.GetString(await File.ReadAllBytesAsync(zip, TestContext.Current.CancellationToken)));
        using (var archive = ZipFile.OpenRead(zip))
            Assert.DoesNotContain(archive.Entries, e => e.FullName.Contains("stolen"));
        Assert.Contains(log, l => l.Contains("stolen skipped (a symbolic link)"));
        Assert.Contains(log, l => l.Contains("stolen-folder skipped (a symbolic link)"));
        Assert.Contains(log, l => l.Contains("pipe skipped (not a regular file)"));
        Assert.Equal(files, facts.FilestoreFiles);

        // The filestore folder itself swapped for a link the tenant made (its uid owns it): refused, not followed.
        var real = source.FilestoreFolder + ".real";
        Directory.Move(source.FilestoreFolder, real);
        Directory.CreateSymbolicLink(source.FilestoreFolder, secrets);
        Assert.Equal(0, (await OdooOps.Database.ProcessRunner.RunAsync("chown", ["-h", "900000123", source.FilestoreFolder], null, default)).ExitCode);
        var refused = await Assert.ThrowsAsync<BackupException>(() => _world.BackupAsync(source));
        Assert.Contains("is a symbolic link owned by uid 900000123; it is not followed", refused.Message);
    }
}
