using OdooOps.Configuration;
using OdooOps.Secrets;

namespace OdooOps.Backups.Storage;

/// <summary>
/// Where backups go and how large they may be, read once at start (a bad value stops `serve` with one line naming its
/// key). OPS_BACKUP_STORAGE: unset → the folder &lt;data dir&gt;/backups; an absolute path → that folder;
/// <c>s3://bucket[/prefix]</c> → a bucket, with OPS_BACKUP_S3_ENDPOINT (S3-compatible servers), OPS_BACKUP_S3_REGION,
/// OPS_BACKUP_S3_CHECKSUMS and the two credentials, which are secrets: read like the other secrets (configuration, then
/// &lt;data dir&gt;/secrets.env), never shown (<see cref="S3Settings.ToString"/> leaves the secret key out).
/// </summary>
internal sealed record BackupStorageSettings(string Folder, S3Settings? S3, long MaxBytes, string TempDir, TimeSpan LinkLifetime)
{
    public const string StorageKey = "OPS_BACKUP_STORAGE";
    public const string EndpointKey = "OPS_BACKUP_S3_ENDPOINT";
    public const string RegionKey = "OPS_BACKUP_S3_REGION";
    public const string ChecksumsKey = "OPS_BACKUP_S3_CHECKSUMS";
    public const string AccessKeyIdKey = "OPS_BACKUP_S3_ACCESS_KEY_ID";
    public const string SecretAccessKeyKey = "OPS_BACKUP_S3_SECRET_ACCESS_KEY";
    public const string MaxGbKey = "OPS_BACKUP_MAX_GB";
    public const string LinkMinutesKey = "OPS_BACKUP_LINK_MINUTES";

    public static BackupStorageSettings From(IConfiguration config)
    {
        var dataDir = OpsConfiguration.ResolveDataDir(config);
        var maxBytes = OpsConfiguration.WholeNumber(config, MaxGbKey, 100, 1, 100_000) * 1024L * 1024 * 1024;
        var link = TimeSpan.FromMinutes(OpsConfiguration.WholeNumber(config, LinkMinutesKey, 15, 1, 1440));
        var temp = Path.Combine(dataDir, "tmp");
        var folder = Path.Combine(dataDir, "backups");
        var storage = config[StorageKey]?.Trim();
        if (string.IsNullOrEmpty(storage)) return new(folder, null, maxBytes, temp, link);
        if (!storage.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
            return Path.IsPathFullyQualified(storage)
                ? new(Path.GetFullPath(storage), null, maxBytes, temp, link)
                : throw new InvalidOperationException($"{StorageKey}: '{storage}' is neither an absolute folder nor s3://bucket/prefix.");
        return new(folder, S3Settings.From(config, storage), maxBytes, temp, link);
    }
}

/// <summary>A bucket's coordinates and credentials. The secret key is kept out of <see cref="ToString"/> (records print every member).</summary>
internal sealed record S3Settings(string Bucket, string Prefix, Uri? Endpoint, string Region, bool Checksums, string AccessKeyId, string SecretAccessKey)
{
    public static S3Settings From(IConfiguration config, string url)
    {
        var rest = url["s3://".Length..];
        var slash = rest.IndexOf('/');
        var bucket = slash < 0 ? rest : rest[..slash];
        var prefix = slash < 0 ? "" : rest[(slash + 1)..].Trim('/');
        // S3's bucket naming rules (lower-case letters, digits, dots, hyphens; 3–63); the prefix is an object-name prefix.
        if (bucket.Length is < 3 or > 63 || !bucket.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-'))
            throw new InvalidOperationException($"{BackupStorageSettings.StorageKey}: '{bucket}' is not an S3 bucket name.");
        if (prefix.Length > 200 || prefix.Any(char.IsControl) || (prefix.Length > 0 && prefix.Split('/').Any(s => s is "" or "." or "..")))
            throw new InvalidOperationException($"{BackupStorageSettings.StorageKey}: the prefix '{prefix}' is not a folder-like name.");
        Uri? endpoint = null;
        if (config[BackupStorageSettings.EndpointKey] is { Length: > 0 } e)
            endpoint = Uri.TryCreate(e.Trim(), UriKind.Absolute, out var u) && u.Scheme is "http" or "https" && u.UserInfo.Length == 0
                ? u : throw new InvalidOperationException($"{BackupStorageSettings.EndpointKey}: '{e}' is not an http(s) URL (without credentials).");
        var region = config[BackupStorageSettings.RegionKey] is { Length: > 0 } r ? r.Trim() : "us-east-1";
        var checksums = (config[BackupStorageSettings.ChecksumsKey]?.Trim().ToLowerInvariant()) switch
        {
            null or "" or "sha256" => true,
            "off" => false,
            var other => throw new InvalidOperationException($"{BackupStorageSettings.ChecksumsKey}: '{other}' must be sha256 or off."),
        };
        var id = SecretsSetup.Value(config, BackupStorageSettings.AccessKeyIdKey);
        var secret = SecretsSetup.Value(config, BackupStorageSettings.SecretAccessKeyKey);
        if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(secret))
            throw new InvalidOperationException(
                $"{BackupStorageSettings.StorageKey} is a bucket: set {BackupStorageSettings.AccessKeyIdKey} and {BackupStorageSettings.SecretAccessKeyKey} (environment or secrets.env).");
        return new(bucket, prefix, endpoint, region, checksums, id, secret);
    }

    public override string ToString() =>
        $"s3://{Bucket}/{Prefix} at {Endpoint?.ToString() ?? "AWS"} ({Region}), access key id {AccessKeyId}, secret key set";
}
