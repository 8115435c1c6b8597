using System.Collections.Concurrent;
using System.Net;
using Dapper;
using OdooOps.Database;

namespace OdooOps.Auth;

/// <summary>
/// Email + password checks with two brakes: per client address (a sliding minute window, in memory) and per
/// account (consecutive failures lock the account for a while, in the database, so it holds across replicas).
/// Unknown emails cost the same hashing work as known ones, so timing does not reveal which emails exist.
/// </summary>
internal sealed class SignInService(OpsDatabase database, TimeProvider time)
{
    public const int MaxFailuresPerAccount = 5;
    public static readonly TimeSpan LockDuration = TimeSpan.FromMinutes(15);
    public const int MaxAttemptsPerAddressPerMinute = 20;

    static readonly string DummyHash = Passwords.Hash(Guid.NewGuid().ToString());
    readonly ConcurrentDictionary<string, Queue<DateTimeOffset>> _attempts = new();

    public abstract record Outcome;
    public sealed record Success(Guid UserId, string Email, string? DisplayName) : Outcome;
    public sealed record Invalid : Outcome;
    public sealed record Locked(DateTimeOffset Until) : Outcome;
    public sealed record Throttled(TimeSpan RetryAfter) : Outcome;

    public async Task<Outcome> SignInAsync(string email, string password, IPAddress? address, CancellationToken ct)
    {
        if (Throttle(address?.ToString() ?? "unknown") is { } wait) return new Throttled(wait);

        await using var conn = await database.Service.OpenConnectionAsync(ct);
        var user = await conn.QuerySingleOrDefaultAsync<LoginRow>(
            "select user_id as UserId, email as Email, display_name as DisplayName, password_hash as PasswordHash, is_active as IsActive, locked_until as LockedUntil from ops.login_lookup(@email)",
            new { email });
        if (user is null || user.PasswordHash is null || !user.IsActive)
        {
            Passwords.Verify(DummyHash, password);
            return new Invalid();
        }
        if (user.LockedUntil is { } until && until > time.GetUtcNow()) return new Locked(until);

        var ok = Passwords.Verify(user.PasswordHash, password);
        var lockedUntil = await conn.ExecuteScalarAsync<DateTime?>(
            "select ops.record_login(@UserId, @ok, @MaxFailuresPerAccount, @LockDuration)",
            new { user.UserId, ok, MaxFailuresPerAccount, LockDuration });
        if (ok) return new Success(user.UserId, user.Email, user.DisplayName);
        return lockedUntil is { } l ? new Locked(new DateTimeOffset(DateTime.SpecifyKind(l, DateTimeKind.Utc))) : new Invalid();
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

    sealed record LoginRow(Guid UserId, string Email, string? DisplayName, string? PasswordHash, bool IsActive, DateTime? LockedUntil);
}
