using OdooOps.Server;

namespace OdooOps.Webhooks;

/// <summary>
/// A push as both providers describe it: the ref, the new head (all zeros when the ref was deleted), the head commit's
/// message and its time (null when the payload does not say).
/// </summary>
internal sealed record GitPush(string Ref, string After, bool Deleted, string? Message, DateTimeOffset? CommittedAt = null)
{
    const string Heads = "refs/heads/";
    const string Tags = "refs/tags/";

    public bool IsTag => Ref.StartsWith(Tags, StringComparison.Ordinal);

    /// <summary>The branch name for refs/heads/…, else null (tags, notes, anything else).</summary>
    public string? Branch => Ref.StartsWith(Heads, StringComparison.Ordinal) ? Ref[Heads.Length..] : null;

    public static bool IsZero(string sha) => sha.Length > 0 && sha.All(c => c == '0');

    /// <summary>A full SHA-1 or SHA-256 object name in hex.</summary>
    public static bool IsSha(string sha) => sha.Length is 40 or 64 && sha.All(char.IsAsciiHexDigit);

    /// <summary>What the hook does with this push: build, archive, or nothing (with the reason).</summary>
    public HookEvent Classify()
    {
        if (IsTag) return new HookEvent.Ignored($"Tag pushes do not build ({Ref}).");
        if (Branch is not { } branch) return new HookEvent.Ignored($"Only branches (refs/heads/…) build; {Ref} is not one.");
        // The rules of ops.branches.name, checked here so a bad name is a 400 and never reaches the database.
        if (branch.Length is 0 or > 200 || branch.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            return new HookEvent.Invalid(new Validation().Add("ref", "The branch name must have 1 to 200 characters and no spaces or control characters."));
        if (!Deleted && !IsSha(After))
            return new HookEvent.Invalid(new Validation().Add("after", "after must be a full commit SHA (40 or 64 hex characters)."));
        return new HookEvent.Push(this with { After = After.ToLowerInvariant(), Message = Message?.Replace("\0", "") });
    }
}

/// <summary>What a verified hook request asks for.</summary>
internal abstract record HookEvent
{
    public sealed record Push(GitPush Git) : HookEvent;
    public sealed record Ping : HookEvent;
    public sealed record Ignored(string Reason) : HookEvent;
    public sealed record Invalid(Validation Errors) : HookEvent;
}
