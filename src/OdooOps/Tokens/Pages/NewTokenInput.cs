using OdooOps.Audit;
using OdooOps.Database;

namespace OdooOps.Tokens.Pages;

/// <summary>The "New token" form's fields, bound from the posted form (names Input.Name, Input.Scope, Input.Expiry).</summary>
internal sealed class NewTokenInput
{
    // Error keys double as the words the messages start with ("Name is required."), as in the projects form.
    public const string NameField = "Name", ScopeField = "Scope", ExpiryField = "Expiry";
    public const string Never = "never";
    public const int NameMaxLength = PersonalTokens.MaxNameLength;

    /// <summary>The lifetimes offered, in days; a subset of what the API accepts (1–3650 days or none).</summary>
    public static readonly int[] ExpiryDays = [7, 30, 90, 365];

    public string? Name { get; set; }
    public string? Scope { get; set; } = "read";
    public string? Expiry { get; set; } = "30";

    /// <summary>Null for "never"; only meaningful once <see cref="Validate"/> found no error.</summary>
    public int? ExpiresInDays => int.TryParse(Expiry, out var days) ? days : null;

    static readonly PersonalTokens.FieldNames Fields = new(NameField, ScopeField, ExpiryField);

    PersonalTokens.Request Request() => new(Name, Scope, ExpiresInDays is { } days && ExpiryDays.Contains(days) ? TimeSpan.FromDays(days) : null);

    /// <summary>The rules of every personal token (<see cref="PersonalTokens"/>), plus the form's fixed list of expiries.</summary>
    public IDictionary<string, string[]> Validate()
    {
        var v = PersonalTokens.Validate(Request(), Fields);
        if (Expiry != Never && !ExpiryDays.Any(d => d.ToString() == Expiry))
            v.Add(ExpiryField, $"{ExpiryField} must be one of: {string.Join(", ", ExpiryDays)} days, or never.");
        return v.Errors;
    }

    public abstract record Outcome;
    public sealed record Created(NewToken Token) : Outcome;
    public sealed record Invalid(IDictionary<string, string[]> Errors) : Outcome;

    /// <summary>Creates the token through <see cref="PersonalTokens"/>, audited in the console's current organisation.</summary>
    public async Task<Outcome> CreateAsync(OpsDatabase db, Actor actor, Guid? auditOrgId, CancellationToken ct)
    {
        if (Validate() is { Count: > 0 } errors) return new Invalid(errors);
        var userId = actor.UserId!.Value;
        return new Created(await db.AsUserAsync(userId, (c, t) => PersonalTokens.CreateAsync(c, t, actor, userId, Request(), auditOrgId), ct));
    }
}
