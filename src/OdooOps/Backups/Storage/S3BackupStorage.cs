using System.Net;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace OdooOps.Backups.Storage;

/// <summary>
/// Backups in an S3-compatible bucket, under an optional prefix. A put reads the source one part at a time (the only
/// buffer: one part, at least 8 MiB, large enough that the size limit fits in S3's 10,000 parts): a source that ends
/// within the first part is one PutObject, anything longer a multipart upload, aborted if anything fails. With
/// checksums on (the default), every part carries its SHA-256 (x-amz-checksum-sha256) for the server to check, the
/// upload is declared SHA-256 and completed with each part's checksum; the SDK adds no checksum of its own and sends
/// plain (not aws-chunked) bodies, which every S3-compatible server understands.
/// </summary>
internal sealed class S3BackupStorage : BackupStorage, IDisposable
{
    const int MaxParts = 10_000;
    const int MinPartBytes = 8 * 1024 * 1024;

    readonly IAmazonS3 _s3;
    readonly S3Settings _settings;

    public S3BackupStorage(S3Settings settings)
    {
        _settings = settings;
        var config = new AmazonS3Config
        {
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            MaxErrorRetry = 2,
            Timeout = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        if (settings.Endpoint is { } endpoint)
        {
            config.ServiceURL = endpoint.ToString();
            config.AuthenticationRegion = settings.Region;
            config.ForcePathStyle = true; // S3-compatible servers rarely serve bucket.host names
        }
        else config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(settings.Region);
        _s3 = new AmazonS3Client(new BasicAWSCredentials(settings.AccessKeyId, settings.SecretAccessKey), config);
    }

    public override string Name => "s3";

    public override async Task<StoredObject> PutAsync(string key, Stream source, long maxBytes, CancellationToken ct)
    {
        var name = ObjectName(key);
        var partBytes = PartBytes(maxBytes);
        var buffer = GC.AllocateUninitializedArray<byte>(partBytes);
        using var digest = new UploadDigest(maxBytes);
        var filled = await digest.FillAsync(source, buffer, ct);
        if (filled < partBytes)
        {
            await Call(() => _s3.PutObjectAsync(Checked(new PutObjectRequest
            {
                BucketName = _settings.Bucket, Key = name, InputStream = new MemoryStream(buffer, 0, filled, writable: false),
                ContentType = "application/zip", UseChunkEncoding = false, AutoCloseStream = true,
            }, buffer, filled), ct), name);
            return digest.Result();
        }

        var upload = await Call(() => _s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest
        {
            BucketName = _settings.Bucket, Key = name, ContentType = "application/zip",
            ChecksumAlgorithm = _settings.Checksums ? ChecksumAlgorithm.SHA256 : null,
        }, ct), name);
        try
        {
            var parts = new List<PartETag>();
            while (filled > 0)
            {
                var number = parts.Count + 1;
                var part = Checked(new UploadPartRequest
                {
                    BucketName = _settings.Bucket, Key = name, UploadId = upload.UploadId, PartNumber = number, PartSize = filled,
                    InputStream = new MemoryStream(buffer, 0, filled, writable: false), UseChunkEncoding = false,
                }, buffer, filled);
                var uploaded = await Call(() => _s3.UploadPartAsync(part, ct), name);
                parts.Add(new PartETag { PartNumber = number, ETag = uploaded.ETag, ChecksumSHA256 = part.ChecksumSHA256 });
                // A short part was the last: the source has ended (a request body is not read past its end).
                filled = filled < partBytes ? 0 : await digest.FillAsync(source, buffer, ct);
            }
            await Call(() => _s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = _settings.Bucket, Key = name, UploadId = upload.UploadId, PartETags = parts,
            }, ct), name);
            return digest.Result();
        }
        catch
        {
            // Best effort: parts left behind cost storage until the bucket's lifecycle rule (see docs/backups.md) clears them.
            try { await _s3.AbortMultipartUploadAsync(_settings.Bucket, name, upload.UploadId, CancellationToken.None); }
            catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException) { }
            throw;
        }
    }

    T Checked<T>(T request, byte[] buffer, int count) where T : AmazonWebServiceRequest
    {
        if (!_settings.Checksums) return request;
        var sha = Convert.ToBase64String(SHA256.HashData(buffer.AsSpan(0, count)));
        switch (request)
        {
            case PutObjectRequest put: put.ChecksumSHA256 = sha; break;
            case UploadPartRequest part: part.ChecksumSHA256 = sha; break;
        }
        return request;
    }

    /// <summary>Parts of at least 8 MiB, whole MiB, so that <paramref name="maxBytes"/> fits in 10,000 of them.</summary>
    internal static int PartBytes(long maxBytes)
    {
        var needed = (maxBytes + MaxParts - 1) / MaxParts;
        var mib = (needed + (1 << 20) - 1) >> 20;
        return (int)Math.Max(MinPartBytes, mib << 20);
    }

    public override async Task<Stream> OpenReadAsync(string key, CancellationToken ct)
    {
        var name = ObjectName(key);
        var head = await Call(() => _s3.GetObjectMetadataAsync(_settings.Bucket, name, ct), name, key);
        return new S3ReadStream(this, name, head.ContentLength);
    }

    /// <summary>The object from <paramref name="offset"/> to its end, streamed (<see cref="S3ReadStream"/> asks again after a seek).</summary>
    internal async Task<Stream> OpenRangeAsync(string name, long offset, long length, CancellationToken ct)
    {
        var response = await Call(() => _s3.GetObjectAsync(new GetObjectRequest
        {
            BucketName = _settings.Bucket, Key = name, ByteRange = new ByteRange(offset, length - 1),
        }, ct), name);
        return response.ResponseStream;
    }

    public override async Task DeleteAsync(string key, CancellationToken ct)
    {
        var name = ObjectName(key);
        await Call(() => _s3.DeleteObjectAsync(_settings.Bucket, name, ct), name);
    }

    public override async Task<bool> ExistsAsync(string key, CancellationToken ct)
    {
        var name = ObjectName(key);
        try
        {
            await Call(() => _s3.GetObjectMetadataAsync(_settings.Bucket, name, ct), name, key);
            return true;
        }
        catch (BackupObjectNotFoundException) { return false; }
    }

    string ObjectName(string key) => _settings.Prefix.Length == 0 ? BackupKeys.Checked(key) : $"{_settings.Prefix}/{BackupKeys.Checked(key)}";

    /// <summary>
    /// One S3 call, its failures made ours: a missing object (when <paramref name="key"/> is given, i.e. a read) is
    /// <see cref="BackupObjectNotFoundException"/>; everything else the bucket or the way to it did — refused, unreachable,
    /// timed out, a missing bucket, wrong credentials — is <see cref="BackupStorageUnavailableException"/>. The caller's
    /// own cancellation stays a cancellation.
    /// </summary>
    internal async Task<T> Call<T>(Func<Task<T>> call, string name, string? key = null)
    {
        try { return await call(); }
        catch (AmazonS3Exception e) when (key is not null && (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode is null or "NoSuchKey" or "NotFound"))
        {
            throw new BackupObjectNotFoundException(key);
        }
        catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException
                                      or TimeoutException or (TaskCanceledException and not { CancellationToken.IsCancellationRequested: true }))
        {
            throw Unavailable(name, e);
        }
    }

    internal BackupStorageUnavailableException Unavailable(string name, Exception e) =>
        new($"The bucket {_settings.Bucket} at {_settings.Endpoint?.ToString() ?? "AWS " + _settings.Region} failed on {name}: " +
            (e is AmazonServiceException s ? $"{(int)s.StatusCode} {s.ErrorCode} {s.Message}" : e.Message), e);

    public void Dispose() => _s3.Dispose();
}
