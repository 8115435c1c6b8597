using System.Collections.Concurrent;
using System.Net;
using Dapper;
using OdooOps.Database;

namespace OdooOps.Auth;

/// <summary>
/// Email + password checks with two brakes: per client address (a sliding minute, in memory) and per account and
/// address (consecutive failures from one address lock the account for that address only, in the database, so it holds
/// across replicas and a stranger cannot lock anyone else out). The answer says "wrong email or password" alike for an
/// unknown email, an inactive or locked account and a wrong password, and each of them costs the same work: one
/// look-up, one password hash, one record call.
/// </summary>
internal sealed class SignInService(OpsDatabase database, TimeProvider time)
{
    public const int MaxFailuresPerAddress = 5;
    public static readonly TimeSpan LockDuration = TimeSpan.FromMinutes(15);
    public const int MaxAttemptsPerAddressPerMinute = 20;

    static readonly string DummyHash = Passwords.Hash(Guid.NewGuid().ToString());
    readonly ConcurrentDictionary<string, Queue<DateTimeOffset>> _attempts = new();

    public abstract record Outcome;
    public sealed record Success(Guid UserId, string Email, string? DisplayName) : Outcome;
    public sealed record Invalid : Outcome;
    public sealed record Throttled(TimeSpan RetryAfter) : Outcome;

    public async Task<Outcome> SignInAsync(string email, string password, IPAddress? address, CancellationToken ct)
    {
        var where = BrakeKey(address);
        if (Throttle(where) is { } wait) return new Throttled(wait);

        await using var conn = await database.Service.OpenConnectionAsync(ct);
        var user = await conn.QuerySingleOrDefaultAsync<LoginRow>(
            "select user_id as UserId, email as Email, display_name as DisplayName, password_hash as PasswordHash, is_active as IsActive, locked as Locked from ops.login_lookup(@email, @where)",
            new { email, where });
        var usable = user is { PasswordHash: not null, IsActive: true, Locked: false };
        var ok = Passwords.Verify(usable ? user!.PasswordHash! : DummyHash, password) && usable;
        await conn.ExecuteScalarAsync<DateTime?>(
            "select ops.record_login(@userId, @where, @ok, @MaxFailuresPerAddress, @LockDuration)",
            new { userId = usable ? user!.UserId : (Guid?)null, where, ok, MaxFailuresPerAddress, LockDuration });
        return ok ? new Success(user!.UserId, user.Email, user.DisplayName) : new Invalid();
    }

    /// <summary>The client's address as sessions record it (IPv4 seen through an IPv6 socket as plain IPv4).</summary>
    public static string? AddressOf(IPAddress? address) =>
        (address?.IsIPv4MappedToIPv6 == true ? address.MapToIPv4() : address)?.ToString();

    /// <summary>What the brakes count by: an IPv4 address, or an IPv6 client's /64 (one host usually holds a whole /64,
    /// and counting single addresses would give it billions of fresh tries).</summary>
    internal static string BrakeKey(IPAddress? address)
    {
        if (address?.IsIPv4MappedToIPv6 == true) address = address.MapToIPv4();
        if (address is null) return "unknown";
        return address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? new IPNetwork(new IPAddress([.. address.GetAddressBytes()[..8], 0, 0, 0, 0, 0, 0, 0, 0]), 64).ToString()
            : address.ToString();
    }

    internal int TrackedAddresses => _attempts.Count;

    internal TimeSpan? Throttle(string key)
    {
        var now = time.GetUtcNow();
        // Each address keeps a small queue for a minute; without pruning, many addresses would grow this forever.
        if (_attempts.Count > 10_000) Prune(now);
        var queue = _attempts.GetOrAdd(key, _ => new Queue<DateTimeOffset>());
        lock (queue)
        {
            while (queue.Count > 0 && now - queue.Peek() > TimeSpan.FromMinutes(1)) queue.Dequeue();
            if (queue.Count >= MaxAttemptsPerAddressPerMinute) return TimeSpan.FromMinutes(1) - (now - queue.Peek());
            queue.Enqueue(now);
            return null;
        }
    }

    void Prune(DateTimeOffset now)
    {
        foreach (var (address, queue) in _attempts)
            lock (queue)
                if (queue.Count == 0 || now - queue.Last() > TimeSpan.FromMinutes(1))
                    _attempts.TryRemove(address, out _);
    }

    sealed record LoginRow(Guid UserId, string Email, string? DisplayName, string? PasswordHash, bool IsActive, bool Locked);
}
