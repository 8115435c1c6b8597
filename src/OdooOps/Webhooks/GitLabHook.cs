using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using OdooOps.Server;

namespace OdooOps.Webhooks;

/// <summary>
/// GitLab: X-Gitlab-Token carries the project's secret itself (compared as SHA-256 digests, in constant time);
/// X-Gitlab-Event names the event. "Push Hook" builds (or archives, when after is all zeros); tag pushes and
/// other events are ignored.
/// </summary>
internal sealed class GitLabHook : IHookProvider
{
    public const string TokenHeader = "X-Gitlab-Token";
    public const string EventHeader = "X-Gitlab-Event";
    /// <summary>GitLab 17.4+: the same on every retry of a delivery. Older GitLab sends only the event's UUID.</summary>
    public const string IdempotencyHeader = "Idempotency-Key", EventUuidHeader = "X-Gitlab-Event-UUID";

    public string Name => "gitlab";
    public bool BodyIsSigned => false;
    public string? DeliveryId(IHeaderDictionary headers) =>
        HookPayload.Header(headers, IdempotencyHeader) ?? HookPayload.Header(headers, EventUuidHeader);

    public bool Authenticate(string? key, IHeaderDictionary headers, ReadOnlySpan<byte> body)
    {
        var token = HookPayload.Header(headers, TokenHeader);
        // Digests have equal lengths whatever was sent, so the comparison time says nothing about the secret.
        var expected = key is null ? HookPayload.NoKey : SHA256.HashData(Encoding.UTF8.GetBytes(key));
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(token ?? ""));
        return CryptographicOperations.FixedTimeEquals(expected, presented) & (token is not null) & (key is not null);
    }

    public HookEvent Read(IHeaderDictionary headers, ReadOnlySpan<byte> body) => HookPayload.Header(headers, EventHeader) switch
    {
        null => HookPayload.Refuse(EventHeader, $"The {EventHeader} header is required."),
        "Push Hook" => ReadPush(body),
        "Tag Push Hook" => new HookEvent.Ignored("Tag pushes do not build."),
        var other => new HookEvent.Ignored($"GitLab event '{other}' is not used: only Push Hook builds."),
    };

    /// <summary>
    /// ref, after, checkout_sha (the commit to build; null when the branch was deleted) and commits[] (oldest first,
    /// at most 20): the message is that of the commit built, else of the last one; its time that of the commit built.
    /// </summary>
    static HookEvent ReadPush(ReadOnlySpan<byte> body)
    {
        using var doc = HookPayload.Parse(body, out var invalid);
        if (doc is null) return invalid!;
        var root = doc.RootElement;
        var errors = new Validation();
        var gitRef = HookPayload.Required(root, "ref", errors);
        var after = HookPayload.Required(root, "after", errors);
        var checkout = HookPayload.String(root, "checkout_sha", "checkout_sha", errors);
        var commits = new List<(string? Id, string? Message, DateTimeOffset? At)>();
        if (root.TryGetProperty("commits", out var list) && list.ValueKind != JsonValueKind.Null)
        {
            if (list.ValueKind != JsonValueKind.Array) errors.Add("commits", "commits must be an array.");
            else
                foreach (var (commit, i) in list.EnumerateArray().Select((c, i) => (c, i)))
                {
                    if (commit.ValueKind != JsonValueKind.Object) { errors.Add($"commits[{i}]", $"commits[{i}] must be an object."); continue; }
                    commits.Add((HookPayload.String(commit, "id", $"commits[{i}].id", errors), HookPayload.String(commit, "message", $"commits[{i}].message", errors),
                        HookPayload.Time(commit, "timestamp", $"commits[{i}].timestamp", errors)));
                }
        }
        if (!errors.IsValid) return new HookEvent.Invalid(errors);
        var deleted = GitPush.IsZero(after!);
        var head = deleted ? after! : checkout ?? after!;
        var built = commits.LastOrDefault(c => string.Equals(c.Id, head, StringComparison.OrdinalIgnoreCase));
        var message = built.Message ?? (commits.Count > 0 ? commits[^1].Message : null);
        return new GitPush(gitRef!, head, deleted, message, built.At).Classify();
    }
}
