using System.Security.Cryptography;
using System.Text;

namespace OdooOps.Secrets;

/// <summary>
/// The shared secrets named by the original specification (OPS_INGEST_TOKEN, OPS_ADVISORY_SCAN_TOKEN), resolved
/// once at start-up. Callers never see the values: they ask whether a presented token matches, compared in
/// constant time over SHA-256 digests (equal lengths whatever was sent). With them, the <see cref="SecretsKey"/>
/// that encrypts secrets at rest (a server refuses to start without one).
/// </summary>
public sealed class OpsSecrets(IReadOnlyDictionary<string, string> values, SecretsKey? key = null)
{
    public SecretsKey? Key { get; } = key;

    public const string IngestToken = "OPS_INGEST_TOKEN";
    public const string AdvisoryScanToken = "OPS_ADVISORY_SCAN_TOKEN";

    public static readonly string[] Names = [IngestToken, AdvisoryScanToken];

    readonly Dictionary<string, byte[]> _digests = values.ToDictionary(kv => kv.Key, kv => Digest(kv.Value));

    public bool Matches(string name, string? presented) =>
        presented is { Length: > 0 } && _digests.TryGetValue(name, out var expected) &&
        CryptographicOperations.FixedTimeEquals(expected, Digest(presented));

    static byte[] Digest(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));

    /// <summary>Strong enough: at least 32 characters and not a repeated or trivial pattern (12+ distinct characters).</summary>
    public static SecretState Assess(string? value) =>
        string.IsNullOrWhiteSpace(value) ? SecretState.Missing
        : value.Length < 32 || value.Distinct().Count() < 12 ? SecretState.Weak
        : SecretState.Set;

    public static string Generate() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
}

public enum SecretState { Set, Missing, Weak }
