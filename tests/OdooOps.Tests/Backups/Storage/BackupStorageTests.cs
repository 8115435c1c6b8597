using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using OdooOps.Backups.Storage;
using OdooOps.Tests.Runners.Agent.Execution;

namespace OdooOps.Tests.Backups.Storage;

/// <summary>
/// Both storages through the same contract, the bucket a real s3rver: put (from a stream read once), read back, exists,
/// delete, with the storage's own size and SHA-256; a put past the limit stores nothing; a failed put leaves the previous
/// object; a bucket that is gone is <see cref="BackupStorageUnavailableException"/>, never anything else.
/// </summary>
public sealed class BackupStorageTests : IAsyncLifetime
{
    const long Limit = 64L * 1024 * 1024;
    readonly string _folder = ProcessProbe.NewTempDir("odooops-store");
    S3rver _s3 = null!;

    public async ValueTask InitializeAsync() => _s3 = await S3rver.StartAsync();

    public async ValueTask DisposeAsync()
    {
        await _s3.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    static string Key() => BackupKeys.For(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());

    internal static S3BackupStorage Bucket(S3rver s3, string prefix = "ops") =>
        new(BackupStorageSettings.From(new ConfigurationBuilder().AddInMemoryCollection(s3.Settings(prefix)).Build()).S3!);

    BackupStorage Storage(string kind) => kind == "folder" ? new FolderBackupStorage(_folder) : Bucket(_s3);

    static async Task<string> ShaOfAsync(Stream stream)
    {
        await using (stream) return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream));
    }

    [Theory]
    [InlineData("folder", 1_000_000)]
    [InlineData("folder", 0)]
    [InlineData("s3", 1_000_000)] // one PutObject
    [InlineData("s3", 20 * 1024 * 1024 + 5)] // a multipart upload: 8 MiB parts, the last one short
    [InlineData("s3", 0)]
    public async Task Put_counts_and_hashes_what_it_stores_and_reads_exists_and_delete_agree(string kind, long length)
    {
        var storage = Storage(kind);
        var key = Key();
        Assert.False(await storage.ExistsAsync(key, default));
        var source = new GeneratedStream(length);
        var stored = await storage.PutAsync(key, source, Limit, default);
        Assert.Equal(new StoredObject(length, source.Sha256!), stored);
        Assert.True(await storage.ExistsAsync(key, default));
        await using (var read = await storage.OpenReadAsync(key, default))
        {
            Assert.Equal(length, read.Length);
            Assert.Equal(stored.Sha256, await ShaOfAsync(read));
        }
        await storage.DeleteAsync(key, default);
        Assert.False(await storage.ExistsAsync(key, default));
        await Assert.ThrowsAsync<BackupObjectNotFoundException>(() => storage.OpenReadAsync(key, default));
        await storage.DeleteAsync(key, default); // nothing to delete is not an error
        if (kind == "folder") Assert.Empty(Directory.EnumerateFiles(_folder, "*.tmp", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData("folder")]
    [InlineData("s3")]
    public async Task A_put_past_the_limit_stores_nothing_and_a_failed_put_keeps_the_previous_object(string kind)
    {
        var storage = Storage(kind);
        var key = Key();
        var first = await storage.PutAsync(key, new MemoryStream(RandomNumberGenerator.GetBytes(1000)), Limit, default);
        await Assert.ThrowsAsync<BackupTooLargeException>(() => storage.PutAsync(key, new GeneratedStream(20L * 1024 * 1024), 9L * 1024 * 1024, default));
        await Assert.ThrowsAsync<IOException>(() => storage.PutAsync(key, new FailingStream(new GeneratedStream(12L * 1024 * 1024), 10L * 1024 * 1024), Limit, default));
        Assert.Equal(first.Sha256, await ShaOfAsync(await storage.OpenReadAsync(key, default)));
        if (kind == "folder") Assert.Empty(Directory.EnumerateFiles(_folder, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task The_bucket_reader_seeks_with_ranges_and_keys_live_under_the_prefix()
    {
        var storage = Bucket(_s3, "team/backups");
        var key = Key();
        var bytes = RandomNumberGenerator.GetBytes(3 * 1024 * 1024);
        await storage.PutAsync(key, new MemoryStream(bytes), Limit, default);
        Assert.True(File.Exists(Path.Combine(_s3.Directory, S3rver.Bucket, "team", "backups", key + "._S3rver_object")) ||
                    Directory.EnumerateFiles(Path.Combine(_s3.Directory, S3rver.Bucket, "team", "backups"), "*", SearchOption.AllDirectories).Any());
        await using var read = await storage.OpenReadAsync(key, default);
        var tail = new byte[100];
        read.Seek(-100, SeekOrigin.End);
        await read.ReadExactlyAsync(tail);
        Assert.Equal(bytes[^100..], tail);
        read.Position = 10;
        var head = new byte[1000];
        await read.ReadExactlyAsync(head);
        Assert.Equal(bytes[10..1010], head);
        read.Position = 1500; // a short skip ahead reads through
        await read.ReadExactlyAsync(head);
        Assert.Equal(bytes[1500..2500], head);
    }

    /// <summary>
    /// s3rver ignores checksums, so what a real S3 would check is proven on the wire: a recording relay between the
    /// storage and s3rver sees each part's x-amz-checksum-sha256 (the SHA-256 of that part), the upload declared SHA-256
    /// and completed with the parts' checksums, and nothing of the sort with OPS_BACKUP_S3_CHECKSUMS=off.
    /// </summary>
    [Theory]
    [InlineData("sha256")]
    [InlineData("off")]
    public async Task Parts_carry_their_sha256_for_the_server_to_check(string checksums)
    {
        await using var relay = await RecordingRelay.StartAsync(_s3.Endpoint);
        var settings = _s3.Settings();
        settings["OPS_BACKUP_S3_ENDPOINT"] = relay.Endpoint.ToString();
        settings["OPS_BACKUP_S3_CHECKSUMS"] = checksums;
        var storage = new S3BackupStorage(BackupStorageSettings.From(new ConfigurationBuilder().AddInMemoryCollection(settings).Build()).S3!);
        var bytes = RandomNumberGenerator.GetBytes(9 * 1024 * 1024);
        await storage.PutAsync(Key(), new MemoryStream(bytes), Limit, default);
        var sent = relay.Sent();

        string[] expected =
        [
            "x-amz-checksum-algorithm: SHA256",
            $"x-amz-checksum-sha256: {Convert.ToBase64String(SHA256.HashData(bytes.AsSpan(0, 8 << 20)))}",
            $"x-amz-checksum-sha256: {Convert.ToBase64String(SHA256.HashData(bytes.AsSpan(8 << 20)))}",
            $"<ChecksumSHA256>{Convert.ToBase64String(SHA256.HashData(bytes.AsSpan(0, 8 << 20)))}</ChecksumSHA256>",
        ];
        foreach (var line in expected)
            Assert.Equal(checksums == "sha256", sent.Contains(line, StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain("aws-chunked", sent, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("x-amz-checksum-crc", sent, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_bucket_that_is_gone_is_unavailable_for_every_call()
    {
        var storage = Bucket(_s3);
        var key = Key();
        await storage.PutAsync(key, new MemoryStream([1, 2, 3]), Limit, default);
        await _s3.StopAsync();
        await Assert.ThrowsAsync<BackupStorageUnavailableException>(() => storage.PutAsync(Key(), new MemoryStream([1]), Limit, default));
        await Assert.ThrowsAsync<BackupStorageUnavailableException>(() => storage.PutAsync(Key(), new GeneratedStream(9L * 1024 * 1024), Limit, default));
        await Assert.ThrowsAsync<BackupStorageUnavailableException>(() => storage.OpenReadAsync(key, default));
        await Assert.ThrowsAsync<BackupStorageUnavailableException>(() => storage.ExistsAsync(key, default));
        await Assert.ThrowsAsync<BackupStorageUnavailableException>(() => storage.DeleteAsync(key, default));
    }

    [Fact]
    public async Task Unknown_credentials_are_unavailable_too_and_the_secret_is_in_no_message()
    {
        // s3rver checks the access key id, not SigV4 signatures: a wrong id is what it can refuse.
        var settings = _s3.Settings();
        settings["OPS_BACKUP_S3_ACCESS_KEY_ID"] = "UNKNOWN";
        settings["OPS_BACKUP_S3_SECRET_ACCESS_KEY"] = "not-the-secret-0123456789";
        var s3 = BackupStorageSettings.From(new ConfigurationBuilder().AddInMemoryCollection(settings).Build()).S3!;
        var e = await Assert.ThrowsAsync<BackupStorageUnavailableException>(() =>
            new S3BackupStorage(s3).PutAsync(Key(), new MemoryStream([1]), Limit, default));
        Assert.DoesNotContain("not-the-secret", e.ToString());
        Assert.DoesNotContain("not-the-secret", s3.ToString());
        Assert.DoesNotContain("not-the-secret", BackupStorageSettings.From(new ConfigurationBuilder().AddInMemoryCollection(settings).Build()).ToString());
    }

    [Theory]
    [InlineData("OPS_BACKUP_STORAGE", "relative/path")]
    [InlineData("OPS_BACKUP_STORAGE", "s3://Bad_Bucket/x")]
    [InlineData("OPS_BACKUP_STORAGE", "s3://bucket/../x")]
    [InlineData("OPS_BACKUP_S3_ENDPOINT", "ftp://host")]
    [InlineData("OPS_BACKUP_S3_ENDPOINT", "http://user:secret@host")]
    [InlineData("OPS_BACKUP_S3_CHECKSUMS", "md5")]
    [InlineData("OPS_BACKUP_S3_SECRET_ACCESS_KEY", "")]
    [InlineData("OPS_BACKUP_MAX_GB", "0")]
    [InlineData("OPS_BACKUP_LINK_MINUTES", "1441")]
    public void A_bad_setting_stops_with_its_name(string key, string value)
    {
        var settings = _s3.Settings();
        settings["OPS_DATA_DIR"] = _folder; // no secrets.env there to fall back on
        settings[key] = value;
        var e = Assert.Throws<InvalidOperationException>(() => BackupStorageSettings.From(new ConfigurationBuilder().AddInMemoryCollection(settings).Build()));
        Assert.Contains(key == "OPS_BACKUP_S3_SECRET_ACCESS_KEY" ? "OPS_BACKUP_S3_SECRET_ACCESS_KEY" : key, e.Message);
    }

    [Fact]
    public async Task Defaults_and_keys()
    {
        var settings = BackupStorageSettings.From(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["OPS_DATA_DIR"] = _folder }).Build());
        Assert.Equal((Path.Combine(_folder, "backups"), (S3Settings?)null, 100L << 30, TimeSpan.FromMinutes(15)),
            (settings.Folder, settings.S3, settings.MaxBytes, settings.LinkLifetime));
        Assert.Equal(11 << 20, S3BackupStorage.PartBytes(100L << 30)); // 100 GB in at most 10,000 parts
        Assert.Equal(8 << 20, S3BackupStorage.PartBytes(1L << 30));
        await Assert.ThrowsAsync<ArgumentException>(() => new FolderBackupStorage(_folder).OpenReadAsync("../../etc/passwd", default));
        Assert.Throws<ArgumentException>(() => BackupKeys.Checked($"{Guid.NewGuid()}/../{Guid.NewGuid()}.zip"));
    }

    /// <summary>Gives <paramref name="after"/> bytes of its source, then fails as a dropped connection would.</summary>
    sealed class FailingStream(Stream inner, long after) : Stream
    {
        long _read;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            if (_read >= after) throw new IOException("The connection was reset.");
            var n = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, after - _read)], ct);
            _read += n;
            return n;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
