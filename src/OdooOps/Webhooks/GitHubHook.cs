using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using OdooOps.Server;

namespace OdooOps.Webhooks;

/// <summary>
/// GitHub: X-Hub-Signature-256 is "sha256=" and the hex HMAC-SHA256 of the raw body under the project's secret;
/// X-GitHub-Event names the event. push builds (or archives, when deleted), ping answers, the rest is ignored.
/// </summary>
internal sealed class GitHubHook : IHookProvider
{
    public const string SignatureHeader = "X-Hub-Signature-256";
    public const string EventHeader = "X-GitHub-Event";
    public const string DeliveryHeader = "X-GitHub-Delivery";
    const string SignaturePrefix = "sha256=";

    public string Name => "github";
    public bool BodyIsSigned => true;
    public string? DeliveryId(IHeaderDictionary headers) => HookPayload.Header(headers, DeliveryHeader);

    public bool Authenticate(string? key, IHeaderDictionary headers, ReadOnlySpan<byte> body)
    {
        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(key is null ? HookPayload.NoKey : Encoding.UTF8.GetBytes(key), body, expected);
        Span<byte> presented = stackalloc byte[HMACSHA256.HashSizeInBytes];
        var wellFormed = TryPresented(HookPayload.Header(headers, SignatureHeader), presented);
        return CryptographicOperations.FixedTimeEquals(expected, presented) & wellFormed & (key is not null);
    }

    static bool TryPresented(string? header, Span<byte> into) =>
        header is { Length: 71 } && header.StartsWith(SignaturePrefix, StringComparison.Ordinal) &&
        Convert.FromHexString(header.AsSpan(SignaturePrefix.Length), into, out _, out var written) == System.Buffers.OperationStatus.Done &&
        written == into.Length;

    public HookEvent Read(IHeaderDictionary headers, ReadOnlySpan<byte> body) => HookPayload.Header(headers, EventHeader) switch
    {
        null => HookPayload.Refuse(EventHeader, $"The {EventHeader} header is required."),
        "ping" => new HookEvent.Ping(),
        "push" => ReadPush(body),
        var other => new HookEvent.Ignored($"GitHub event '{other}' is not used: only push builds (and ping answers)."),
    };

    /// <summary>ref, after, deleted (optional) and head_commit.message and .timestamp (head_commit is null for a deletion).</summary>
    static HookEvent ReadPush(ReadOnlySpan<byte> body)
    {
        using var doc = HookPayload.Parse(body, out var invalid);
        if (doc is null) return invalid!;
        var root = doc.RootElement;
        var errors = new Validation();
        var gitRef = HookPayload.Required(root, "ref", errors);
        var after = HookPayload.Required(root, "after", errors);
        var deleted = false;
        if (root.TryGetProperty("deleted", out var flag) && flag.ValueKind != JsonValueKind.Null)
        {
            if (flag.ValueKind is JsonValueKind.True or JsonValueKind.False) deleted = flag.GetBoolean();
            else errors.Add("deleted", "deleted must be true or false.");
        }
        string? message = null;
        DateTimeOffset? at = null;
        if (root.TryGetProperty("head_commit", out var head) && head.ValueKind != JsonValueKind.Null)
        {
            if (head.ValueKind == JsonValueKind.Object)
            {
                message = HookPayload.String(head, "message", "head_commit.message", errors);
                at = HookPayload.Time(head, "timestamp", "head_commit.timestamp", errors);
            }
            else errors.Add("head_commit", "head_commit must be an object or null.");
        }
        if (!errors.IsValid) return new HookEvent.Invalid(errors);
        return new GitPush(gitRef!, after!, deleted || GitPush.IsZero(after!), message, at).Classify();
    }
}
