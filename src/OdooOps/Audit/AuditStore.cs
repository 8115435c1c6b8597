using System.Data.Common;
using Dapper;
using Npgsql;

namespace OdooOps.Audit;

/// <summary>One row of the audit log as its readers see it (the actor's email when they can still see that user).</summary>
internal sealed record AuditEntry(long Id, Guid OrgId, Guid? ProjectId, string? ProjectSlug, Guid? ActorUserId, string? ActorEmail, string Actor, string Action,
    string? TargetType, string? TargetId, string? Before, string? After, string? Ip, DateTime CreatedAt);

/// <summary>
/// The audit log's reads, inside a user transaction (RLS: organisation owners and admins). Newest first by id, which
/// only grows: a page after <c>cursor</c> (the last id shown) stays the same whatever is written meanwhile.
/// </summary>
internal static class AuditStore
{
    const string Query = """
        select a.id, a.org_id, a.project_id, p.slug as project_slug, a.actor_user_id, u.email as actor_email, a.actor, a.action,
               a.target_type, a.target_id, a.before::text as before, a.after::text as after, host(a.ip) as ip, a.created_at
          from ops.audit_log a
          left join registry.users u on u.id = a.actor_user_id
          left join ops.projects p on p.id = a.project_id
         where a.org_id = @orgId
           and (@cursor::bigint is null or a.id < @cursor)
           and (@ActorEmail::text is null or lower(u.email) = lower(@ActorEmail))
           and (@ActorKind::text is null or (a.actor = @ActorKind and a.actor_user_id is null))
           and (@Action::text is null or a.action = @Action)
           and (@ActionPrefix::text is null or starts_with(a.action, @ActionPrefix))
           and (@TargetType::text is null or (a.target_type = @TargetType and a.target_id = @TargetId))
           and (@TargetAny::text is null or a.target_type = @TargetAny or a.target_id = @TargetAny)
           and (@From::timestamptz is null or a.created_at >= @From)
           and (@To::timestamptz is null or a.created_at < @To)
         order by a.id desc
        """;

    static object Args(Guid orgId, AuditFilter f, long? cursor, int? limit) => new
    {
        orgId, cursor, limit, f.ActorEmail, f.ActorKind, f.Action, f.ActionPrefix, f.TargetType, f.TargetId, f.TargetAny,
        From = f.From?.ToUniversalTime(), To = f.To?.ToUniversalTime(), // Npgsql writes timestamptz from UTC only
    };

    /// <summary>Up to <paramref name="limit"/> entries older than <paramref name="cursor"/>, and the cursor of the next page (null: none).</summary>
    public static async Task<(IReadOnlyList<AuditEntry> Entries, long? Next)> PageAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid orgId,
        AuditFilter filter, long? cursor, int limit)
    {
        var rows = (await c.QueryAsync<AuditEntry>($"{Query} limit @limit", Args(orgId, filter, cursor, limit + 1), t)).AsList();
        return rows.Count > limit ? (rows.Take(limit).ToList(), rows[limit - 1].Id) : (rows, null);
    }

    /// <summary>Every matching entry, read as it streams from the database (an export holds no page of it in memory).</summary>
    public static async IAsyncEnumerable<AuditEntry> StreamAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid orgId, AuditFilter filter,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await using DbDataReader reader = await c.ExecuteReaderAsync(new CommandDefinition(Query, Args(orgId, filter, null, null), t, cancellationToken: ct));
        var parse = reader.GetRowParser<AuditEntry>();
        while (await reader.ReadAsync(ct)) yield return parse(reader);
    }
}
