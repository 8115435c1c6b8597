using OdooOps.Audit;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Tokens.Pages;

/// <summary>The "New token" form's fields, bound from the posted form (names Input.Name, Input.Scope, Input.Expiry).</summary>
public sealed class NewTokenInput
{
    // Error keys double as the words the messages start with ("Name is required."), as in the projects form.
    public const string NameField = "Name", ScopeField = "Scope", ExpiryField = "Expiry";
    public const string Never = "never";
    public const int NameMaxLength = 100;

    /// <summary>The lifetimes offered, in days; a subset of what the API accepts (1–3650 days or none).</summary>
    public static readonly int[] ExpiryDays = [7, 30, 90, 365];

    public string? Name { get; set; }
    public string? Scope { get; set; } = "read";
    public string? Expiry { get; set; } = "30";

    /// <summary>Null for "never"; only meaningful once <see cref="Validate"/> found no error.</summary>
    public int? ExpiresInDays => int.TryParse(Expiry, out var days) ? days : null;

    /// <summary>The rules of TokensApi.Validate (name ≤ 100, scope read|write), plus the fixed list of expiries.</summary>
    public IDictionary<string, string[]> Validate()
    {
        var v = new Validation().Required(NameField, Name, NameMaxLength).Required(ScopeField, Scope).OneOf(ScopeField, Scope, "read", "write");
        if (Expiry != Never && !ExpiryDays.Any(d => d.ToString() == Expiry))
            v.Add(ExpiryField, $"{ExpiryField} must be one of: {string.Join(", ", ExpiryDays)} days, or never.");
        return v.Errors;
    }

    public abstract record Outcome;
    public sealed record Created(NewToken Token) : Outcome;
    public sealed record Invalid(IDictionary<string, string[]> Errors) : Outcome;

    /// <summary>
    /// Creates the token and, when the user has an organisation to log it in, its audit row, in one transaction.
    /// The audit row gets a <see cref="TokenInfo"/>: that type has no field for the token or its hash.
    /// </summary>
    public async Task<Outcome> CreateAsync(OpsDatabase db, Guid userId, Guid? auditOrgId, System.Net.IPAddress? ip, CancellationToken ct)
    {
        if (Validate() is { Count: > 0 } errors) return new Invalid(errors);
        var lifetime = ExpiresInDays is { } days ? TimeSpan.FromDays(days) : (TimeSpan?)null;
        var token = await db.AsUserAsync(userId, async (c, t) =>
        {
            var created = await TokenStore.CreateAsync(c, t, userId, Name!.Trim(), Scope!, lifetime);
            if (auditOrgId is { } orgId)
            {
                var logged = new TokenInfo(created.Id, created.Name, created.TokenPrefix, created.Scope, created.CreatedAt, created.ExpiresAt, null, null);
                await AuditLog.WriteAsync(c, t, userId, new(orgId, null, "token.create", "token", created.Id.ToString(), After: logged), ip);
            }
            return created;
        }, ct);
        return new Created(token);
    }
}
