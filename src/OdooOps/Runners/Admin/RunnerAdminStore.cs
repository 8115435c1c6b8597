using Dapper;
using Npgsql;
using OdooOps.Auth;
using OdooOps.Runners.Protocol;

namespace OdooOps.Runners.Admin;

/// <summary>
/// A runner as org members see it. <see cref="Online"/>: seen within <see cref="RunnerAdminStore.OnlineSeconds"/>.
/// (Properties, not a positional record: Npgsql reports a text[] column as System.Array, which Dapper's constructor
/// matching refuses for string[]; a property takes the value as it is.)
/// </summary>
internal sealed record RunnerInfo
{
    public Guid Id { get; init; }
    /// <summary>Null for a shared runner.</summary>
    public Guid? OrgId { get; init; }
    public string Name { get; init; } = "";
    public string[] Labels { get; init; } = [];
    public int Capacity { get; init; }
    public string? Version { get; init; }
    public DateTime? LastSeenAt { get; init; }
    public bool Online { get; init; }
    public bool Shared { get; init; }
    /// <summary>The runner `odooops serve` starts itself (once disabled, it stays off across restarts).</summary>
    public bool Embedded { get; init; }
    public bool Disabled { get; init; }
    public DateTime? DisabledAt { get; init; }
    /// <summary>Builds it holds a lease on now, whoever's they are.</summary>
    public int RunningBuilds { get; init; }
    /// <summary>Whether Odoo instances may be placed on it, and how many at most (<see cref="RunnerInstanceHosting"/>).</summary>
    public bool ServesInstances { get; init; }
    public int InstanceCapacity { get; init; }
    /// <summary>Instances on it not yet retired, whoever's they are.</summary>
    public int InstancesPlaced { get; init; }
    /// <summary>Where the proxy reaches its instances' ports (null: 127.0.0.1, the runner inside serve).</summary>
    public string? InstanceAddress { get; init; }
    /// <summary>When it last reported its instances.</summary>
    public DateTime? InstancesSeenAt { get; init; }
    public DateTime CreatedAt { get; init; }
}

/// <summary>A registration token as its org's admins see it: never the token, nor its hash.</summary>
public sealed record RegistrationTokenInfo(Guid Id, Guid? OrgId, Guid? CreatedBy, string? CreatedByEmail, DateTime CreatedAt,
    DateTime? ExpiresAt, DateTime? UsedAt, DateTime? RevokedAt, string Status);

/// <summary>A new registration token: <see cref="Token"/> is in this object only; the database keeps its SHA-256.</summary>
public sealed record NewRegistrationToken(Guid Id, string Token, DateTime CreatedAt, DateTime ExpiresAt, string RegisterCommand);

/// <summary>
/// The admin side of runners, as the acting user (ops_app): reads go through RLS, writes through the role-checking
/// functions of Runners/Admin/Sql, so the database enforces who may do what a second time.
/// </summary>
internal static class RunnerAdminStore
{
    /// <summary>
    /// An idle runner long-polls for 30 s and its last_seen_at is written at most every 10 s (ops.authenticate_runner),
    /// so a healthy one can go 40 s unseen: 60 s keeps it from flickering offline between polls.
    /// </summary>
    public const int OnlineSeconds = 60;

    static readonly string RunnerColumns = $"""
        r.id, r.org_id, r.name, r.labels, r.capacity, r.version, r.last_seen_at,
        coalesce(r.last_seen_at > now() - interval '{OnlineSeconds} seconds', false) as online,
        r.org_id is null as shared, r.embedded, r.disabled_at is not null as disabled, r.disabled_at,
        coalesce(b.running, 0) as running_builds, r.created_at,
        r.serves_instances, r.instance_capacity, coalesce(i.placed, 0) as instances_placed, r.instance_address, r.instances_seen_at
        """;

    const string RunnerFrom = """
        ops.runners r
        left join ops.runner_running_builds() b on b.runner_id = r.id
        left join ops.runner_placed_instances() i on i.runner_id = r.id
        """;

    /// <summary>The org's runners and the shared ones: the org's first, then by name.</summary>
    public static async Task<IReadOnlyList<RunnerInfo>> ListAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid orgId) =>
        [.. await c.QueryAsync<RunnerInfo>($"""
            select {RunnerColumns}
              from {RunnerFrom}
             where r.org_id = @orgId or r.org_id is null
             order by r.org_id is null, r.name, r.id
            """, new { orgId }, t)];

    /// <summary>One runner of the org, or a shared one; null when there is none the caller can see.</summary>
    public static Task<RunnerInfo?> GetAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid orgId, Guid runnerId) =>
        c.QuerySingleOrDefaultAsync<RunnerInfo>($"""
            select {RunnerColumns}
              from {RunnerFrom}
             where r.id = @runnerId and (r.org_id = @orgId or r.org_id is null)
            """, new { orgId, runnerId }, t);

    /// <summary>Whether the acting user administers shared runners (registry.users.is_system_admin).</summary>
    public static Task<bool> IsSystemAdminAsync(NpgsqlConnection c, NpgsqlTransaction t) =>
        c.ExecuteScalarAsync<bool>("select ops.is_system_admin()", transaction: t);

    /// <summary>Disables or enables (the function checks the role: 42501, or P0002 for a runner the caller cannot see).</summary>
    public static Task SetDisabledAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid runnerId, bool disabled) =>
        c.ExecuteAsync("select ops.set_runner_disabled(@runnerId, @disabled)", new { runnerId, disabled }, t);

    /// <summary>Hosting on or off and the capacity, null for either leaves it (the function checks the role: 42501, or P0002).</summary>
    public static Task SetInstanceHostingAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid runnerId, bool? serves, int? capacity) =>
        c.ExecuteAsync("select ops.set_runner_instance_hosting(@runnerId, @serves, @capacity)", new { runnerId, serves, capacity }, t);

    const string TokenColumns = """
        t.id, t.org_id, t.created_by, u.email as created_by_email, t.created_at, t.expires_at, t.used_at, t.revoked_at,
        case when t.revoked_at is not null then 'revoked'
             when t.expires_at <= now() then 'expired'
             when t.used_at is not null then 'used'
             else 'unused' end as status
        """;

    /// <summary>The org's registration tokens, newest first (RLS: org owners and admins only).</summary>
    public static async Task<IReadOnlyList<RegistrationTokenInfo>> ListTokensAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid orgId) =>
        [.. await c.QueryAsync<RegistrationTokenInfo>($"""
            select {TokenColumns}
              from ops.runner_registration_tokens t
              left join registry.users u on u.id = t.created_by
             where t.org_id = @orgId
             order by t.created_at desc, t.id
            """, new { orgId }, t)];

    public static Task<RegistrationTokenInfo?> GetTokenAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid orgId, Guid tokenId) =>
        c.QuerySingleOrDefaultAsync<RegistrationTokenInfo>($"""
            select {TokenColumns}
              from ops.runner_registration_tokens t
              left join registry.users u on u.id = t.created_by
             where t.org_id = @orgId and t.id = @tokenId
            """, new { orgId, tokenId }, t);

    /// <summary>Issues a registration token (oo_reg_…) valid for <paramref name="lifetime"/>; only its hash is stored.</summary>
    public static async Task<(Guid Id, string Token, DateTime CreatedAt, DateTime ExpiresAt)> CreateTokenAsync(
        NpgsqlConnection c, NpgsqlTransaction t, Guid orgId, TimeSpan lifetime)
    {
        var token = AccessTokens.Create(RunnerProtocol.RegistrationTokenPrefix);
        var id = await c.ExecuteScalarAsync<Guid>("select ops.create_runner_registration_token(@orgId, @hash, now() + @lifetime)",
            new { orgId, hash = AccessTokens.Hash(token), lifetime }, t);
        var (createdAt, expiresAt) = await c.QuerySingleAsync<(DateTime, DateTime)>(
            "select created_at, expires_at from ops.runner_registration_tokens where id = @id", new { id }, t);
        return (id, token, createdAt, expiresAt);
    }

    /// <summary>Revokes (P0002 when the org has no such token); the answer is when it was first revoked.</summary>
    public static Task<DateTime> RevokeTokenAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid orgId, Guid tokenId) =>
        c.ExecuteScalarAsync<DateTime>("select ops.revoke_runner_registration_token(@orgId, @tokenId)", new { orgId, tokenId }, t);
}
