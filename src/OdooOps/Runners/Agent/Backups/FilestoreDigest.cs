using System.Security.Cryptography;
using System.Text;

namespace OdooOps.Runners.Agent.Backups;

/// <summary>
/// A filestore's fingerprint, the same on both sides of a backup: SHA-256 over the UTF-8 lines
/// <c>"&lt;relative path&gt;\t&lt;size&gt;\t&lt;sha256 hex&gt;\n"</c> sorted by ordinal path. Files may be added in any order.
/// </summary>
internal sealed class FilestoreDigest
{
    readonly List<(string Path, long Size, string Sha256)> _files = [];

    public int Files => _files.Count;
    public long Bytes { get; private set; }

    public void Add(string relativePath, long size, byte[] sha256)
    {
        _files.Add((relativePath, size, Convert.ToHexStringLower(sha256)));
        Bytes += size;
    }

    public string Sha256()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (path, size, sha) in _files.OrderBy(f => f.Path, StringComparer.Ordinal))
            hash.AppendData(Encoding.UTF8.GetBytes($"{path}\t{size.ToString(System.Globalization.CultureInfo.InvariantCulture)}\t{sha}\n"));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
