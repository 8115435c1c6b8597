using System.Security.Cryptography;
using Npgsql;
using OdooOps.Runners.Agent.Instances;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Runners.Agent.Backups;

/// <summary>
/// Proves a backup restorable: restores it into a scratch database and folder (names the caller's, e.g.
/// <c>oo-verify-&lt;backup id&gt;</c>), then checks it against its manifest — the zip's SHA-256 (when the caller knows
/// it), the dump's SHA-256, the restore's exit, the table count, every module's state and version, the filestore's
/// file count and SHA-256. The scratch database and folder are always dropped, on failure and cancel too.
/// </summary>
internal sealed class BackupVerifier(BackupRestorer restorer, OdooDatabaseServer server)
{
    public async Task<Verification> VerifyAsync(string zipPath, Guid projectId, bool production, string scratchDatabase, string scratchFolder,
        string? expectedZipSha256, Action<string>? log, CancellationToken ct)
    {
        var checks = new List<VerificationCheck>();
        try
        {
            if (expectedZipSha256 is not null)
            {
                string actual;
                await using (var zip = new FileStream(zipPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20))
                    actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(zip, ct));
                checks.Add(Check("zip_sha256", string.Equals(actual, expectedZipSha256, StringComparison.OrdinalIgnoreCase),
                    $"the zip's SHA-256 is {actual}", $"the zip's SHA-256 is {actual}, it was {expectedZipSha256} when taken: the file was altered or damaged"));
                if (!checks[^1].Passed) return Result(checks);
            }
            RestoredBackup restored;
            try
            {
                restored = await restorer.RestoreAsync(zipPath, new OdooData(projectId, production, scratchDatabase, scratchFolder),
                    new RestoreOptions { CheckFilestore = false }, log, ct);
            }
            catch (BackupException e)
            {
                checks.Add(new VerificationCheck(e.Check ?? "restore", false, e.Message));
                return Result(checks);
            }
            await Failpoints.HoldAsync(Failpoints.VerifyRestored, log, ct);
            var facts = restored.Manifest.Facts;
            if (facts?.DumpSha256 is not null) checks.Add(new VerificationCheck("dump_sha256", true, $"the dump's SHA-256 is the manifest's ({restored.DumpSha256})"));
            checks.Add(new VerificationCheck("restore", true,
                $"{(restored.PlainSql ? "psql" : "pg_restore")} exited with 0 in {restored.DurationMs / 1000.0:0.0} s"));
            if (facts is null)
            {
                checks.Add(new VerificationCheck("manifest", true, "an Odoo zip: no table count nor filestore checksum to compare"));
                return Result(checks);
            }

            await using (var conn = new NpgsqlConnection(server.ProjectConnection(projectId, production, scratchDatabase).ConnectionString))
            {
                await conn.OpenAsync(ct);
                var database = await DatabaseFacts.ReadAsync(conn, ct);
                checks.Add(Check("table_count", database.TableCount == facts.TableCount, $"{database.TableCount} tables, as in the manifest",
                    $"{database.TableCount} tables restored, the manifest says {facts.TableCount}"));
                checks.Add(CompareModules(facts.Modules, database.Modules));
            }
            checks.Add(Check("filestore_files", restored.FilestoreFiles == facts.FilestoreFiles, $"{restored.FilestoreFiles} files, as in the manifest",
                $"{restored.FilestoreFiles} filestore file(s) restored, the manifest says {facts.FilestoreFiles}"));
            checks.Add(Check("filestore_sha256", restored.FilestoreSha256 == facts.FilestoreSha256, $"the filestore's SHA-256 is the manifest's ({restored.FilestoreSha256})",
                $"the restored filestore's SHA-256 is {restored.FilestoreSha256}, the manifest says {facts.FilestoreSha256}"));
            return Result(checks);
        }
        finally
        {
            await DiscardAsync(scratchDatabase, scratchFolder);
        }
    }

    /// <summary>Drops a scratch database and folder (also one a runner killed mid-verification left behind).</summary>
    public async Task DiscardAsync(string scratchDatabase, string scratchFolder)
    {
        await server.DropDatabaseAsync(scratchDatabase, CancellationToken.None);
        var name = Path.GetFileName(scratchFolder.TrimEnd('/'));
        using var parent = SafeFolder.OpenIfExists(Path.GetDirectoryName(scratchFolder.TrimEnd('/'))!);
        parent?.Delete(name);
    }

    static VerificationCheck Check(string name, bool passed, string ok, string failed) => new(name, passed, passed ? ok : failed);

    static VerificationCheck CompareModules(IReadOnlyList<BackupModule> expected, IReadOnlyList<BackupModule> actual)
    {
        var restored = actual.ToDictionary(m => m.Name, StringComparer.Ordinal);
        var differences = new List<string>();
        foreach (var module in expected)
            if (!restored.Remove(module.Name, out var found)) differences.Add($"{module.Name} missing");
            else if (found.State != module.State || found.Version != module.Version)
                differences.Add($"{module.Name} {found.State} {found.Version ?? "-"} (the manifest: {module.State} {module.Version ?? "-"})");
        differences.AddRange(restored.Keys.Order(StringComparer.Ordinal).Select(name => $"{name} not in the manifest"));
        return differences.Count == 0
            ? new VerificationCheck("modules", true, $"{expected.Count} modules, states and versions as in the manifest")
            : new VerificationCheck("modules", false, $"{differences.Count} module(s) differ from the manifest: {string.Join("; ", differences.Take(5))}{(differences.Count > 5 ? "; …" : "")}");
    }

    static Verification Result(List<VerificationCheck> checks)
    {
        var failed = checks.FirstOrDefault(c => !c.Passed);
        return new Verification(failed is null, failed is null ? null : $"{failed.Name}: {failed.Detail}", checks);
    }
}
