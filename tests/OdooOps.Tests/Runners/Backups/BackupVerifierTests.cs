using System.IO.Compression;
using OdooOps.Runners.Agent.Backups;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Runners.Backups;

/// <summary>
/// Verification restores a backup into a scratch database and folder, checks it against its manifest, and drops both
/// whatever happens. A good backup passes; one altered after the fact — a byte flipped in the dump, a filestore file
/// gone or changed, a module's state edited — fails with the reason.
/// </summary>
public sealed class BackupVerifierTests(PostgresCluster cluster) : IAsyncLifetime
{
    BackupWorld _world = null!;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _world = await BackupWorld.CreateAsync(cluster);
    public ValueTask DisposeAsync() => _world.DisposeAsync();

    async Task<(Guid Project, string Zip, string Sha256)> BackupAsync()
    {
        var project = Guid.NewGuid();
        var source = await _world.OdooDatabaseAsync(project, _world.Folder("data"), "base,sale,stock");
        var (zip, facts, _) = await _world.BackupAsync(source);
        return (project, zip, facts.Sha256);
    }

    async Task<OdooOps.Runners.Protocol.RunnerProtocol.Verification> VerifyAsync(Guid project, string zip, string? sha256 = null)
    {
        var scratch = $"oo-verify-{Guid.NewGuid():N}";
        var folder = Path.Combine(_world.Folder("scratch"), scratch);
        var verification = await _world.Verifier.VerifyAsync(zip, project, false, scratch, folder, sha256, null, Ct);
        // Always dropped: the database and the folder.
        Assert.False(await _world.DatabaseExistsAsync(scratch));
        Assert.Empty(Directory.GetFileSystemEntries(Path.GetDirectoryName(folder)!));
        return verification;
    }

    [Fact]
    public async Task A_good_backup_passes_every_check_and_leaves_nothing_behind()
    {
        var (project, zip, sha256) = await BackupAsync();

        var verification = await VerifyAsync(project, zip, sha256);

        Assert.True(verification.Passed, verification.Reason);
        Assert.Null(verification.Reason);
        Assert.Equal(["zip_sha256", "dump_sha256", "restore", "table_count", "modules", "filestore_files", "filestore_sha256"],
            verification.Checks.Select(c => c.Name));
        Assert.All(verification.Checks, c => Assert.True(c.Passed, c.Detail));
    }

    [Fact]
    public async Task A_byte_flipped_in_the_dump_fails_before_anything_is_restored()
    {
        var (project, zip, sha256) = await BackupAsync();
        // The first entry is dump.dump, stored: its bytes follow its local header (30 bytes, its name, its extra field).
        var bytes = await File.ReadAllBytesAsync(zip, Ct);
        var start = 30 + BitConverter.ToUInt16(bytes, 26) + BitConverter.ToUInt16(bytes, 28);
        bytes[start + 1000] ^= 0x01;
        await File.WriteAllBytesAsync(zip, bytes, Ct);

        var verification = await VerifyAsync(project, zip);

        Assert.False(verification.Passed);
        Assert.StartsWith("dump_sha256: dump.dump was altered or damaged: its SHA-256 is ", verification.Reason);
        // With the zip's SHA-256 recorded when it was taken, the zip as a whole is refused first.
        verification = await VerifyAsync(project, zip, sha256);
        Assert.False(verification.Passed);
        Assert.StartsWith($"zip_sha256: the zip's SHA-256 is ", verification.Reason);
        Assert.EndsWith($"it was {sha256} when taken: the file was altered or damaged", verification.Reason);
    }

    [Fact]
    public async Task A_filestore_file_removed_from_the_zip_fails_the_file_count()
    {
        var (project, zip, _) = await BackupAsync();
        var removed = false;
        var altered = BackupWorld.Rewrite(zip, (name, bytes) => !removed && name.StartsWith("filestore/") && (removed = true) ? null : bytes);

        var verification = await VerifyAsync(project, altered);

        Assert.False(verification.Passed);
        Assert.Matches(@"^filestore_files: (\d+) filestore file\(s\) restored, the manifest says \d+$", verification.Reason);
        Assert.True(verification.Checks.Single(c => c.Name == "restore").Passed);
        Assert.False(verification.Checks.Single(c => c.Name == "filestore_sha256").Passed);
    }

    [Fact]
    public async Task A_filestore_file_changed_in_the_zip_fails_the_filestore_checksum()
    {
        var (project, zip, _) = await BackupAsync();
        var changed = false;
        var altered = BackupWorld.Rewrite(zip, (name, bytes) =>
        {
            if (changed || !name.StartsWith("filestore/")) return bytes;
            changed = true;
            bytes[0] ^= 0x20; // same size, other content
            return bytes;
        });

        var verification = await VerifyAsync(project, altered);

        Assert.False(verification.Passed);
        Assert.StartsWith("filestore_sha256: the restored filestore's SHA-256 is ", verification.Reason);
        Assert.True(verification.Checks.Single(c => c.Name == "filestore_files").Passed);
    }

    [Fact]
    public async Task A_database_that_differs_from_its_manifest_fails_the_module_and_table_checks()
    {
        var (project, zip, _) = await BackupAsync();
        // A manifest that no longer describes the dump (a module's state edited, a table more).
        var altered = BackupWorld.Rewrite(zip, (name, bytes) =>
        {
            if (name != "manifest.json") return bytes;
            var manifest = System.Text.Json.Nodes.JsonNode.Parse(bytes)!;
            var ours = manifest["odooops"]!;
            ours["table_count"] = ours["table_count"]!.GetValue<int>() + 1;
            ours["modules"]!.AsArray().Single(m => m!["name"]!.GetValue<string>() == "stock")!["state"] = "to upgrade";
            return System.Text.Encoding.UTF8.GetBytes(manifest.ToJsonString());
        });

        var verification = await VerifyAsync(project, altered);

        Assert.False(verification.Passed);
        Assert.StartsWith("table_count: ", verification.Reason);
        var modules = verification.Checks.Single(c => c.Name == "modules");
        Assert.False(modules.Passed);
        Assert.Equal("1 module(s) differ from the manifest: stock installed 17.0.1.0 (the manifest: to upgrade 17.0.1.0)", modules.Detail);
    }

    [Fact]
    public async Task A_zip_that_cannot_be_restored_fails_the_restore_check()
    {
        var (project, zip, _) = await BackupAsync();
        var truncated = Path.Combine(Path.GetDirectoryName(zip)!, "truncated.zip");
        var bytes = await File.ReadAllBytesAsync(zip, Ct);
        await File.WriteAllBytesAsync(truncated, bytes[..(bytes.Length / 2)], Ct);

        var verification = await VerifyAsync(project, truncated);

        Assert.False(verification.Passed);
        Assert.StartsWith("restore: The backup is not a readable zip", verification.Reason);
    }
}
