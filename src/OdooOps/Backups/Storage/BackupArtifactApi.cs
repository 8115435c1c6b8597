using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Database;
using OdooOps.Runners.Dispatch;
using OdooOps.Server;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Backups.Storage;

/// <summary>
/// The runner's backup zips (step 11 of the protocol): PUT streams the request body into the storage, never whole in
/// memory, and answers what the server itself counted; GET streams a stored zip back. Both behind the runner token
/// (<see cref="RunnerDispatchApi.AuthenticateAsync"/>) and the lease check (ops.backup_artifact_lease), which runs before
/// a byte of the body is read. The body limit is OPS_BACKUP_MAX_GB for this call only (Kestrel's stays for the rest).
/// </summary>
internal static class BackupArtifactApi
{
    public static IEndpointRouteBuilder MapBackupArtifactApi(this IEndpointRouteBuilder app)
    {
        var artifacts = app.MapGroup($"{Base}/backups").WithTags("Runner protocol").AddEndpointFilter(RunnerDispatchApi.AuthenticateAsync).OwnBodyLimit();
        artifacts.MapPut("/{backupId:guid}/artifact", PutAsync).WithSummary("Upload a backup's zip (the body, application/zip, streamed); answers the server's size and SHA-256")
            .Accepts<Stream>("application/zip");
        artifacts.MapGet("/{backupId:guid}/artifact", GetAsync).WithSummary("Stream a stored backup's zip (verify, restore, staging copy)");
        return app;
    }

    static async Task<Results<Ok<ArtifactStored>, ValidationProblem, ProblemHttpResult>> PutAsync(Guid backupId, Guid? lease_id, HttpContext http,
        OpsDatabase db, BackupStores stores, CancellationToken ct)
    {
        if (lease_id is not { } lease) return LeaseRequired();
        var runner = RunnerDispatchApi.Runner(http).Id;
        BackupArtifactStore.LeasedBackup backup;
        await using (var conn = await db.Service.OpenConnectionAsync(ct))
            backup = await BackupArtifactStore.LeaseAsync(conn, runner, backupId, lease, write: true);

        var max = stores.Settings.MaxBytes;
        if (http.Request.ContentLength > max) throw new BackupTooLargeException(max);
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = max;
        // pg_dump may send nothing for a while (waiting for its locks, a large table's first rows): a runner with a lease
        // is not a slow-loris, and Kestrel's minimum rate (240 B/s after 5 s) would cut its backup off.
        if (http.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } rate) rate.MinDataRate = null;

        var storage = stores.Current;
        var key = BackupKeys.For(backup.ProjectId, backup.BranchId, backupId);
        var stored = await storage.PutAsync(key, http.Request.Body, max, ct);
        await using (var conn = await db.Service.OpenConnectionAsync(ct))
            await BackupArtifactStore.RecordAsync(conn, runner, backupId, lease, storage.Name, key, stored);
        return TypedResults.Ok(new ArtifactStored(stored.SizeBytes, stored.Sha256));
    }

    static async Task<Results<FileStreamHttpResult, ValidationProblem>> GetAsync(Guid backupId, Guid? lease_id, HttpContext http,
        OpsDatabase db, BackupStores stores, CancellationToken ct)
    {
        if (lease_id is not { } lease) return LeaseRequired();
        BackupArtifactStore.LeasedBackup backup;
        await using (var conn = await db.Service.OpenConnectionAsync(ct))
            backup = await BackupArtifactStore.LeaseAsync(conn, RunnerDispatchApi.Runner(http).Id, backupId, lease, write: false);
        var stream = await stores.For(backup.Storage).OpenReadAsync(backup.StorageKey!, ct);
        // The runner may stop reading for a while (pg_restore building an index between its reads).
        if (http.Features.Get<IHttpMinResponseDataRateFeature>() is { } rate) rate.MinDataRate = null;
        return TypedResults.Stream(stream, "application/zip");
    }

    static ValidationProblem LeaseRequired() =>
        TypedResults.ValidationProblem(new Validation().Add("lease_id", "lease_id (the task's or the build's lease) is required.").Errors);
}
