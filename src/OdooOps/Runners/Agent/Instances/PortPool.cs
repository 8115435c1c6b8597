using System.Net;
using System.Net.Sockets;

namespace OdooOps.Runners.Agent.Instances;

/// <summary>
/// The host ports instances get (OPS_INSTANCE_PORTS): two per instance (HTTP and Odoo's gevent port), taken from a
/// random place in the range, skipping those in use by this runner or bound by anything else on the host.
/// </summary>
internal sealed class PortPool(InstanceHosting hosting)
{
    readonly HashSet<int> _taken = [];
    readonly Lock _gate = new();

    public (int Http, int Gevent) Take()
    {
        lock (_gate) return (One(), One());
    }

    public void Give(params int[] ports)
    {
        lock (_gate) _taken.ExceptWith(ports);
    }

    int One()
    {
        var count = hosting.LastPort - hosting.FirstPort + 1;
        var start = Random.Shared.Next(count);
        for (var i = 0; i < count; i++)
        {
            var port = hosting.FirstPort + (start + i) % count;
            if (_taken.Contains(port) || !Free(port)) continue;
            _taken.Add(port);
            return port;
        }
        throw new InvalidOperationException($"No free port left in {InstanceHosting.PortsKey} ({hosting.FirstPort}-{hosting.LastPort}).");
    }

    bool Free(int port)
    {
        try
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            probe.Bind(new IPEndPoint(IPAddress.TryParse(hosting.BindAddress, out var address) ? address : IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException) { return false; }
    }
}
