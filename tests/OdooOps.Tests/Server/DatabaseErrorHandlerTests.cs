using System.Net.Sockets;
using Npgsql;
using OdooOps.Cli;
using OdooOps.Server;

namespace OdooOps.Tests.Server;

/// <summary>
/// Which database failures are an outage (503 with Retry-After) rather than a bug (500), and how the clients honour
/// Retry-After.
/// </summary>
public sealed class DatabaseErrorHandlerTests
{
    static PostgresException Server(string sqlState) => new("message", "FATAL", "FATAL", sqlState);

    public static TheoryData<string, Exception, bool> Cases() => new()
    {
        { "connection refused", new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused)), true },
        { "stream broke mid-query", new NpgsqlException("Exception while reading from stream", new EndOfStreamException()), true },
        { "pool or command timeout", new NpgsqlException("The connection pool has been exhausted", new TimeoutException()), true },
        { "wrapped by another layer", new InvalidOperationException("x", new NpgsqlException("y", new SocketException())), true },
        { "57P01 admin_shutdown", Server("57P01"), true },
        { "57P02 crash_shutdown", Server("57P02"), true },
        { "57P03 cannot_connect_now", Server("57P03"), true },
        { "08006 connection_failure", Server("08006"), true },
        { "08001 unable to connect", Server("08001"), true },
        { "53300 too_many_connections", Server("53300"), true },
        { "53100 disk_full", Server("53100"), true },
        { "protocol error", new NpgsqlException("Received unexpected backend message"), false },
        { "40001 serialization_failure", Server("40001"), false },
        { "40P01 deadlock_detected", Server("40P01"), false },
        { "28P01 invalid_password", Server("28P01"), false },
        { "23505 unique_violation", Server("23505"), false },
        { "not a database error", new InvalidOperationException("bug"), false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void An_outage_is_told_from_a_bug(string name, Exception exception, bool unavailable) =>
        Assert.True(DatabaseErrorHandler.IsUnavailable(exception) == unavailable, name);

    [Theory]
    [InlineData(1d, null, 15d, 1d)]     // nothing asked: the client's own back-off
    [InlineData(1d, 5d, 15d, 5d)]       // asked for longer: waits that long
    [InlineData(8d, 5d, 15d, 8d)]       // asked for less: the client's own, longer wait
    [InlineData(1d, 3600d, 15d, 15d)]   // asked for an hour: capped
    public void Retry_after_waits_at_least_what_was_asked_up_to_a_cap(double own, double? asked, double cap, double expected) =>
        Assert.Equal(TimeSpan.FromSeconds(expected),
            RetryAfter.Next(TimeSpan.FromSeconds(own), asked is { } a ? TimeSpan.FromSeconds(a) : null, TimeSpan.FromSeconds(cap)));
}
