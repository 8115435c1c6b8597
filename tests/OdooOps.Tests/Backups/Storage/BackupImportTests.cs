using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using OdooOps.Backups.Storage;
using OdooOps.Tests.Runners.Agent.Execution;

namespace OdooOps.Tests.Backups.Storage;

/// <summary>
/// The storage side of an import: a good zip (Odoo's or ours) is stored byte for byte under the backup's key with its
/// facts; a zip that would write outside its folder when extracted (zip-slip), holds a link, a stranger, two dumps or
/// none, no manifest, or is no zip at all is refused with the reason, and nothing is stored or left in the spool.
/// </summary>
public sealed class BackupImportTests : IDisposable
{
    readonly string _dataDir = ProcessProbe.NewTempDir("odooops-import");
    readonly BackupStores _stores;
    readonly BackupImport _import;

    public BackupImportTests()
    {
        _stores = new BackupStores(BackupStorageSettings.From(new ConfigurationBuilder().AddInMemoryCollection(
            new Dictionary<string, string?> { ["OPS_DATA_DIR"] = _dataDir }).Build()));
        _import = new BackupImport(_stores);
    }

    public void Dispose()
    {
        _stores.Dispose();
        Directory.Delete(_dataDir, recursive: true);
    }

    static byte[] Text(string s) => Encoding.UTF8.GetBytes(s);
    static readonly byte[] Manifest = Text(BackupZips.Manifest);

    [Fact]
    public async Task Odoos_zip_is_stored_as_it_is_with_its_facts()
    {
        var zip = BackupZips.Odoos("create table t (x int);\n");
        var (project, branch, backup) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var imported = await _import.ImportAsync(new MemoryStream(zip), project, branch, backup, default);

        Assert.Equal(("local", BackupKeys.For(project, branch, backup), (long)zip.Length, Convert.ToHexStringLower(SHA256.HashData(zip))),
            (imported.Storage, imported.StorageKey, imported.SizeBytes, imported.Sha256));
        Assert.Equal(("sql", "17.0", "shop", 1, (long)BackupZips.FileBytes.Length), (imported.DumpFormat, imported.OdooVersion, imported.DatabaseName,
            imported.FilestoreFiles, imported.FilestoreBytes));
        Assert.Equal(new Dictionary<string, string> { ["base"] = "17.0.1.3", ["sale"] = "17.0.1.2" }, imported.Modules);
        await using (var stored = await _stores.Current.OpenReadAsync(imported.StorageKey, default))
        {
            var copy = new MemoryStream();
            await stored.CopyToAsync(copy);
            Assert.Equal(zip, copy.ToArray());
        }
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_dataDir, "tmp")));
    }

    [Fact]
    public async Task Our_own_zip_is_accepted_too()
    {
        var imported = await _import.ImportAsync(new MemoryStream(BackupZips.Ours(Text("PGDMP…"))), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), default);
        Assert.Equal("custom", imported.DumpFormat);
    }

    public static TheoryData<string, (string, byte[], int)[], string> Refused() => new()
    {
        { "zip-slip ..", [("dump.sql", Text("x"), 0), ("manifest.json", Manifest, 0), ("filestore/../../../../tmp/evil", Text("x"), 0)], "'..' path segment" },
        { "zip-slip at the top", [("dump.sql", Text("x"), 0), ("manifest.json", Manifest, 0), ("../evil.sh", Text("x"), 0)], "'..' path segment" },
        { "absolute", [("dump.sql", Text("x"), 0), ("manifest.json", Manifest, 0), ("/etc/cron.d/evil", Text("x"), 0)], "absolute path" },
        { "backslash", [("dump.sql", Text("x"), 0), ("manifest.json", Manifest, 0), ("filestore\\..\\..\\evil", Text("x"), 0)], "backslash" },
        { "drive", [("dump.sql", Text("x"), 0), ("manifest.json", Manifest, 0), ("C:/evil", Text("x"), 0)], "colon" },
        { "empty segment", [("dump.sql", Text("x"), 0), ("manifest.json", Manifest, 0), ("filestore//ab", Text("x"), 0)], "empty" },
        { "symbolic link", [("dump.sql", Text("x"), 0), ("manifest.json", Manifest, 0), ("filestore/ab/link", Text("/etc/passwd"), 0xA1FF)], "symbolic link" },
        { "stranger", [("dump.sql", Text("x"), 0), ("manifest.json", Manifest, 0), ("odoo.conf", Text("x"), 0)], "not part of a backup" },
        { "twice", [("dump.sql", Text("x"), 0), ("manifest.json", Manifest, 0), ("manifest.json", Manifest, 0)], "twice" },
        { "two dumps", [("dump.sql", Text("x"), 0), ("dump.dump", Text("x"), 0), ("manifest.json", Manifest, 0)], "both" },
        { "no dump", [("manifest.json", Manifest, 0), ("filestore/ab/cd", Text("x"), 0)], "no database dump" },
        { "no manifest", [("dump.sql", Text("x"), 0)], "no manifest.json" },
        { "manifest not JSON", [("dump.sql", Text("x"), 0), ("manifest.json", Text("{nope"), 0)], "not JSON" },
        { "manifest not an object", [("dump.sql", Text("x"), 0), ("manifest.json", Text("[1]"), 0)], "not a JSON object" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task A_zip_that_is_not_a_clean_backup_is_refused_and_nothing_is_kept(string why, (string, byte[], int)[] entries, string message)
    {
        var backup = Guid.NewGuid();
        var e = await Assert.ThrowsAsync<BackupZipRejectedException>(() =>
            _import.ImportAsync(new MemoryStream(BackupZips.Zip(entries)), Guid.NewGuid(), Guid.NewGuid(), backup, default));
        Assert.Contains(message, e.Message);
        Assert.False(Directory.Exists(Path.Combine(_dataDir, "backups")), why);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_dataDir, "tmp")));
    }

    [Fact]
    public async Task Not_a_zip_is_refused()
    {
        var e = await Assert.ThrowsAsync<BackupZipRejectedException>(() =>
            _import.ImportAsync(new MemoryStream(Text("-- just SQL\ncreate table t ();\n")), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), default));
        Assert.Equal("The file is not a zip.", e.Message);
        Assert.False(Directory.Exists(Path.Combine(_dataDir, "backups")));
    }
}
