using Microsoft.Extensions.DependencyInjection.Extensions;
using OdooOps.Configuration;

namespace OdooOps.Backups;

/// <summary>
/// The people's side's settings, read once at start (a bad value stops `serve` with one line naming the key):
/// OPS_BACKUP_IMPORT_MAX_MB, the largest zip an import takes (20,480 MiB: Odoo databases with their filestore are big).
/// </summary>
internal sealed record BackupSettings(long ImportMaxBytes)
{
    public const string ImportMaxKey = "OPS_BACKUP_IMPORT_MAX_MB";

    public static BackupSettings From(IConfiguration config) =>
        new(OpsConfiguration.WholeNumber(config, ImportMaxKey, 20_480, 1, 1_048_576) * 1024 * 1024);
}

internal static class BackupsSetup
{
    /// <summary>The settings, and the storage's operations (a test's or the host's own stay; until wired: refused as unavailable).</summary>
    public static IServiceCollection AddBackups(this IServiceCollection services, IConfiguration config)
    {
        services.AddSingleton(BackupSettings.From(config));
        services.TryAddSingleton(BackupFiles.NotWired);
        return services;
    }
}
