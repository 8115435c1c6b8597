using System.Text.RegularExpressions;
using OdooOps.Server;

namespace OdooOps.Audit;

/// <summary>
/// What part of an organisation's audit log to read, for the API, its CSV export, the Audit log page and the CLI alike.
/// <list type="bullet">
/// <item>actor: an email (who did it), or a kind of actor without a user — system (the admin verbs), webhook (git pushes);</item>
/// <item>action: exactly (member.role), or every action starting so when it ends in * (member.*);</item>
/// <item>target: TYPE:ID (project:…), or one word matching either the target's type or its id;</item>
/// <item>from, to: dates (whole UTC days, both included) or ISO 8601 times with offset (from included, to not).</item>
/// </list>
/// </summary>
internal sealed partial record AuditFilter(string? ActorEmail, string? ActorKind, string? Action, string? ActionPrefix,
    string? TargetType, string? TargetId, string? TargetAny, DateTimeOffset? From, DateTimeOffset? To)
{
    public static readonly AuditFilter None = new(null, null, null, null, null, null, null, null, null);

    /// <summary>The query's fields as they are named in the API and on the page, for links that keep the filters.</summary>
    public sealed record Raw(string? Actor = null, string? Action = null, string? Target = null, string? From = null, string? To = null)
    {
        public bool IsEmpty => Actor is null && Action is null && Target is null && From is null && To is null;

        public IEnumerable<KeyValuePair<string, string>> Pairs() =>
            new[] { ("actor", Actor), ("action", Action), ("target", Target), ("from", From), ("to", To) }
                .Where(p => p.Item2 is not null).Select(p => KeyValuePair.Create(p.Item1, p.Item2!));
    }

    /// <summary>The filter, or null with the field errors in <paramref name="v"/>. Blank fields are no filter.</summary>
    public static AuditFilter? Parse(Raw raw, Validation v)
    {
        var actor = Blank(raw.Actor);
        var action = Blank(raw.Action);
        var target = Blank(raw.Target);
        string? email = null, kind = null, exact = null, prefix = null, type = null, id = null, any = null;
        if (actor is not null)
        {
            if (actor.Length > 320) v.Add("actor", "actor must be at most 320 characters.");
            else if (actor.Contains('@')) email = actor;
            else if (ActorKindPattern().IsMatch(actor)) kind = actor;
            else v.Add("actor", "actor must be an email, or system or webhook (changes made without a user).");
        }
        if (action is not null)
        {
            if (!ActionPattern().IsMatch(action)) v.Add("action", "action must be an action's name (member.role), or its start followed by * (member.*).");
            else if (action.EndsWith('*')) prefix = action[..^1];
            else exact = action;
        }
        if (target is not null)
        {
            if (target.Length > 300) v.Add("target", "target must be at most 300 characters.");
            else if (target.IndexOf(':') is var colon and > 0) (type, id) = (target[..colon], target[(colon + 1)..]);
            else any = target;
        }
        var from = Moment(raw.From, "from", v);
        var to = Moment(raw.To, "to", v);
        if (from is { } f && to is { } t && t.End <= f.Start) v.Add("to", "to must be after from.");
        return v.IsValid ? new AuditFilter(email, kind, exact, prefix, type, id, any, from?.Start, to?.End) : null;
    }

    static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    static TimeInput.Moment? Moment(string? raw, string field, Validation v)
    {
        if (Blank(raw) is not { } text) return null;
        if (TimeInput.Parse(text) is { } moment) return moment;
        v.Add(field, $"{field} must be {TimeInput.Formats}.");
        return null;
    }

    [GeneratedRegex("^[a-z][a-z_]{0,39}$")] private static partial Regex ActorKindPattern();
    [GeneratedRegex(@"^[a-z][a-z0-9_.]{0,199}\*?$|^\*$")] private static partial Regex ActionPattern();
}
