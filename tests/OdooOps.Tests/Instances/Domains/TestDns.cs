using System.Net;
using System.Net.Sockets;
using OdooOps.Instances.Domains;

namespace OdooOps.Tests.Instances.Domains;

/// <summary>
/// The DNS every test server's domain check uses (TestHosts registers it; a test may register its own): a fixed map,
/// so no test sends a DNS query off the machine. This server's address is 127.0.0.1; names under "here.test" point at
/// it, names under "elsewhere.test" at 203.0.113.9, and any other name does not resolve.
/// </summary>
internal static class TestDns
{
    public static readonly DomainChecker Default = Checker(name =>
        name.EndsWith(".here.test", StringComparison.Ordinal) ? [IPAddress.Loopback]
        : name.EndsWith(".elsewhere.test", StringComparison.Ordinal) ? [IPAddress.Parse("203.0.113.9")]
        : null);

    /// <param name="answer">The addresses of a name; null: it does not resolve.</param>
    public static DomainChecker Checker(Func<string, IPAddress[]?> answer) =>
        new((name, _) => Task.FromResult(answer(name) ?? throw new SocketException((int)SocketError.HostNotFound)), [IPAddress.Loopback]);
}
