namespace OdooOps.Runners.Agent.Sandbox;

/// <summary>
/// Leases the uid a build runs as. A lease is an exclusive lock (flock, via <see cref="FileShare.None"/>) on a file named
/// after the uid in a host-wide folder, so two builds — of this runner or of another runner process on the host — never
/// share a uid at the same time, and a runner that dies lets its leases go with it. Uids are tried from a random
/// start, so a uid freed a moment ago is rarely the next one taken; an instance asks for the same uid at every start
/// (<paramref name="preferred"/>: its key), so its filestore stays its own without a chown each time.
/// </summary>
internal sealed class SandboxUids(SandboxSettings settings)
{
    public sealed class Lease(int uid, FileStream lockFile) : IDisposable
    {
        public int Uid { get; } = uid;
        public void Dispose() => lockFile.Dispose();
    }

    public Lease Acquire(Guid? preferred = null)
    {
        Directory.CreateDirectory(settings.LockDirectory);
        File.SetUnixFileMode(settings.LockDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var start = preferred is { } key
            ? (int)(BitConverter.ToUInt32(System.Security.Cryptography.SHA256.HashData(key.ToByteArray())) % (uint)settings.UidCount)
            : Random.Shared.Next(settings.UidCount);
        for (var i = 0; i < settings.UidCount; i++)
        {
            var uid = settings.FirstUid + (start + i) % settings.UidCount;
            try
            {
                var file = new FileStream(Path.Combine(settings.LockDirectory, $"uid-{uid}.lock"), FileMode.OpenOrCreate,
                    FileAccess.ReadWrite, FileShare.None);
                return new Lease(uid, file);
            }
            catch (IOException) { } // held by another build
        }
        throw new InvalidOperationException($"All {settings.UidCount} sandbox uids ({SandboxSettings.UidsKey}) are in use.");
    }
}
