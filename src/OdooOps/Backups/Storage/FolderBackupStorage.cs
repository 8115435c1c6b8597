namespace OdooOps.Backups.Storage;

/// <summary>
/// Backups as files under a folder (default &lt;data dir&gt;/backups), only the server's user may read: folders 0700,
/// files 0600. A put writes a temporary file beside the target, flushes it to disk and renames it over the target, so
/// a reader sees the old object or the new one whole, and a failed put leaves nothing.
/// </summary>
public sealed class FolderBackupStorage(string root) : BackupStorage
{
    const UnixFileMode OwnerOnlyDir = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public override string Name => "local";

    public string Root { get; } = Path.GetFullPath(root);

    public override async Task<StoredObject> PutAsync(string key, Stream source, long maxBytes, CancellationToken ct)
    {
        var path = PathOf(key);
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        using var digest = new UploadDigest(maxBytes);
        try
        {
            FileStream file;
            try
            {
                CreateFolders(Path.GetDirectoryName(path)!);
                file = new FileStream(temporary, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = OwnerOnlyFile, Options = FileOptions.Asynchronous,
                    BufferSize = 0,
                });
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw Unavailable(e); }
            await using (file)
            {
                await digest.CopyAsync(source, file, Unavailable, ct);
                try { file.Flush(flushToDisk: true); }
                catch (IOException e) { throw Unavailable(e); }
            }
            try { File.Move(temporary, path, overwrite: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw Unavailable(e); }
            return digest.Result();
        }
        finally
        {
            try { File.Delete(temporary); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    public override Task<Stream> OpenReadAsync(string key, CancellationToken ct)
    {
        try
        {
            return Task.FromResult<Stream>(new FileStream(PathOf(key), new FileStreamOptions
            {
                Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.Read | FileShare.Delete, Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
            }));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { throw new BackupObjectNotFoundException(key); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw Unavailable(e); }
    }

    public override Task DeleteAsync(string key, CancellationToken ct)
    {
        try { File.Delete(PathOf(key)); }
        catch (DirectoryNotFoundException) { }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw Unavailable(e); }
        return Task.CompletedTask;
    }

    public override Task<bool> ExistsAsync(string key, CancellationToken ct) => Task.FromResult(File.Exists(PathOf(key)));

    string PathOf(string key) => Path.Combine(Root, BackupKeys.Checked(key));

    /// <summary>The root and the key's folders, each made 0700 when created (backups are the customers' data).</summary>
    void CreateFolders(string folder)
    {
        var missing = new Stack<string>();
        for (var f = folder; !Directory.Exists(f); f = Path.GetDirectoryName(f)!) missing.Push(f);
        while (missing.TryPop(out var f)) Directory.CreateDirectory(f, OwnerOnlyDir);
    }

    BackupStorageUnavailableException Unavailable(Exception e) =>
        new($"The backup folder {Root} cannot be written or read: {e.Message}", e);
}
