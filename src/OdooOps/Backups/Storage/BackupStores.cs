using OdooOps.Secrets;

namespace OdooOps.Backups.Storage;

/// <summary>
/// The storages of this server: new backups go to the configured one (<see cref="Current"/>); a backup is read from the
/// one it was stored in (ops.backups.storage), so backups kept in the folder stay readable after a move to a bucket.
/// </summary>
internal sealed class BackupStores(BackupStorageSettings settings) : IDisposable
{
    readonly FolderBackupStorage _folder = new(settings.Folder);
    readonly S3BackupStorage? _s3 = settings.S3 is { } s3 ? new S3BackupStorage(s3) : null;

    public BackupStorageSettings Settings => settings;

    public BackupStorage Current => (BackupStorage?)_s3 ?? _folder;

    public BackupStorage For(string? storage) => storage switch
    {
        "local" => _folder,
        "s3" => _s3 ?? throw new BackupStorageUnavailableException($"This backup is in a bucket, but {BackupStorageSettings.StorageKey} names no bucket now."),
        _ => throw new BackupObjectNotFoundException(storage ?? "(none)"),
    };

    public void Dispose() => _s3?.Dispose();
}

internal static class BackupStorageSetup
{
    /// <summary>Settings read now: a bad OPS_BACKUP_* value or missing bucket credentials stop `serve` with one line.</summary>
    public static IServiceCollection AddBackupStorage(this IServiceCollection services, IConfiguration config)
    {
        services.AddSingleton(sp => new BackupStores(BackupStorageSettings.From(sp.GetRequiredService<IConfiguration>())));
        _ = BackupStorageSettings.From(config);
        services.AddSingleton(sp => new BackupLinks(sp.GetRequiredService<OpsSecrets>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<BackupStores>().Settings.LinkLifetime));
        services.AddSingleton<BackupImport>();
        services.AddExceptionHandler<BackupStorageErrorHandler>();
        return services;
    }
}
