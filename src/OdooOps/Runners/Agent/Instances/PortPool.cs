using System.Net;
using System.Net.Sockets;

namespace OdooOps.Runners.Agent.Instances;

/// <summary>
/// The host ports instances get (OPS_INSTANCE_PORTS): two per instance (HTTP and Odoo's gevent port), taken from a
/// random place in the range, skipping those in use by this runner or bound by anything else on the host. A port given
/// back rests for a while before another instance gets it: until the server has seen the old instance stop, its route
/// may still point there, and must not reach another tenant's server.
/// </summary>
internal sealed class PortPool(InstanceHosting hosting)
{
    readonly HashSet<int> _taken = [];
    readonly Dictionary<int, DateTime> _resting = [];
    readonly Lock _gate = new();
    static readonly TimeSpan Rest = TimeSpan.FromMinutes(2);

    public (int Http, int Gevent) Take()
    {
        lock (_gate) return (One(), One());
    }

    public void Give(params int[] ports)
    {
        lock (_gate)
        {
            _taken.ExceptWith(ports);
            foreach (var port in ports) _resting[port] = DateTime.UtcNow + Rest;
        }
    }

    int One()
    {
        var count = hosting.LastPort - hosting.FirstPort + 1;
        var start = Random.Shared.Next(count);
        for (var i = 0; i < count; i++)
        {
            var port = hosting.FirstPort + (start + i) % count;
            if (_taken.Contains(port) || (_resting.TryGetValue(port, out var until) && until > DateTime.UtcNow) || !Free(port)) continue;
            _resting.Remove(port);
            _taken.Add(port);
            return port;
        }
        throw new InvalidOperationException($"No free port left in {InstanceHosting.PortsKey} ({hosting.FirstPort}-{hosting.LastPort}).");
    }

    bool Free(int port)
    {
        try
        {
            var address = IPAddress.TryParse(hosting.BindAddress, out var parsed) ? parsed : IPAddress.Loopback;
            using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            probe.Bind(new IPEndPoint(address, port));
            return true;
        }
        catch (SocketException) { return false; }
    }
}
