using Npgsql;
using OdooOps.Audit;
using OdooOps.Projects;
using OdooOps.Server;

namespace OdooOps.Advisories;

/// <summary>
/// Resolving, suppressing and un-suppressing an advisory, for the API, the Advisories page and (through the API) the
/// CLI: each change with its audit row in the caller's transaction. Who may is the database's to say
/// (ops.resolve_advisory, ops.suppress_advisory, ops.unsuppress_advisory under the advisories_update policy:
/// developer or higher); the advisory's history is written by its trigger.
/// </summary>
internal static class AdvisoryActions
{
    public abstract record Outcome;
    public sealed record Done(Advisory Advisory) : Outcome;
    public sealed record NotFound : Outcome;
    public sealed record Forbidden(string Message) : Outcome;
    public sealed record Conflict(string Message) : Outcome;

    public const int MaxReasonLength = 500;

    /// <summary>A suppression's end and reason, checked: <paramref name="until"/> is an ISO 8601 time with offset, or a
    /// date (YYYY-MM-DD: to the end of that day, UTC); it must be in the future, and a reason is required.</summary>
    public static (DateTimeOffset Until, string Reason)? ValidSuppression(string? until, string? reason, DateTimeOffset now, Validation v)
    {
        var end = ParseUntil(until, v);
        if (end is { } e && e <= now) v.Add("until", "until must be in the future.");
        v.Required("reason", reason, MaxReasonLength);
        return v.IsValid ? (end!.Value, reason!.Trim()) : null;
    }

    static DateTimeOffset? ParseUntil(string? raw, Validation v)
    {
        if (string.IsNullOrWhiteSpace(raw)) { v.Add("until", $"until is required: {TimeInput.Formats}."); return null; }
        if (TimeInput.Parse(raw) is { } moment) return moment.End; // a date: to the end of that day
        v.Add("until", $"until must be {TimeInput.Formats}.");
        return null;
    }

    /// <summary>Resolving a resolved advisory answers it unchanged (and writes no audit row).</summary>
    public static Task<Outcome> ResolveAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, Guid projectId, Guid advisoryId) =>
        ChangeAsync(c, t, actor, projectId, advisoryId, "advisory.resolve", a => a.Status == "resolved", () => AdvisoryStore.ResolveAsync(c, t, advisoryId));

    /// <summary>A suppression checked by <see cref="ValidSuppression"/>; a suppressed advisory gets the new date and reason.</summary>
    public static Task<Outcome> SuppressAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, Guid projectId, Guid advisoryId,
        DateTimeOffset until, string reason) =>
        ChangeAsync(c, t, actor, projectId, advisoryId, "advisory.suppress", _ => false, () => AdvisoryStore.SuppressAsync(c, t, advisoryId, until, reason));

    /// <summary>Un-suppressing an advisory that is not suppressed answers it unchanged (and writes no audit row).</summary>
    public static Task<Outcome> UnsuppressAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, Guid projectId, Guid advisoryId) =>
        ChangeAsync(c, t, actor, projectId, advisoryId, "advisory.unsuppress", a => a.Status != "suppressed", () => AdvisoryStore.UnsuppressAsync(c, t, advisoryId));

    static async Task<Outcome> ChangeAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, Guid projectId, Guid advisoryId, string action,
        Func<Advisory, bool> unchanged, Func<Task> change)
    {
        var before = await AdvisoryStore.GetAsync(c, t, projectId, advisoryId);
        if (before is null) return new NotFound();
        if (unchanged(before)) return new Done(before);
        await t.SaveAsync("advisory");
        try
        {
            await change();
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.ObjectNotInPrerequisiteState)
        {
            await t.RollbackAsync("advisory");
            return e.SqlState == PostgresErrorCodes.InsufficientPrivilege
                ? new Forbidden("Your role does not allow this: resolving and suppressing advisories needs a developer.")
                : new Conflict("This advisory is resolved; a resolved advisory cannot be suppressed (the next scan reopens it if it still holds).");
        }
        var after = (await AdvisoryStore.GetAsync(c, t, projectId, advisoryId))!;
        var project = (await ProjectStore.GetAsync(c, t, projectId))!;
        await AuditLog.WriteAsync(c, t, actor, new(project.OrgId, projectId, action, "advisory", after.Id.ToString(),
            new { before.Status, before.SuppressedUntil, before.SuppressReason },
            new { after.Rule, after.Fingerprint, after.Status, after.SuppressedUntil, after.SuppressReason }));
        return new Done(after);
    }
}
