using System.Globalization;

namespace OdooOps.Runners.Agent.Instances;

/// <summary>
/// How a runner hosts instances (OPS_RUNNER_INSTANCES, OPS_INSTANCE_*): whether at all, the host ports its instances
/// get (the proxy reaches them there; nothing in a sandbox can), the address the server reaches them at, Odoo's
/// database server, and the supervision's timings.
/// </summary>
public sealed record InstanceHosting
{
    public const string EnabledKey = "OPS_RUNNER_INSTANCES";
    public const string PortsKey = "OPS_INSTANCE_PORTS";
    public const string BindKey = "OPS_INSTANCE_BIND";
    public const string AddressKey = "OPS_INSTANCE_ADDRESS";
    public const string HealthKey = "OPS_INSTANCE_HEALTH_SECONDS";
    public const string HealthTimeoutKey = "OPS_INSTANCE_HEALTH_TIMEOUT_SECONDS";
    public const string StartTimeoutKey = "OPS_INSTANCE_START_TIMEOUT_SECONDS";
    public const string MaxRestartsKey = "OPS_INSTANCE_MAX_RESTARTS";
    public const string RestartWindowKey = "OPS_INSTANCE_RESTART_WINDOW_MINUTES";
    public const string MetricsKey = "OPS_INSTANCE_METRICS_SECONDS";

    public bool Enabled { get; init; } = true;
    public int FirstPort { get; init; } = 20000;
    public int LastPort { get; init; } = 29999;

    /// <summary>The host address instance ports are bound on (loopback: only this host, the embedded proxy, reaches them).</summary>
    public string BindAddress { get; init; } = "127.0.0.1";

    /// <summary>The address the server's proxy reaches this host's instance ports at (null: loopback, same host).</summary>
    public string? AdvertisedAddress { get; init; }

    public OdooDatabaseServer? Database { get; init; }
    public TimeSpan HealthInterval { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(180);

    /// <summary>How long one health check waits for its answer before it counts as failed.</summary>
    public TimeSpan HealthTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Three failed health checks in a row make a running instance unhealthy.</summary>
    public int UnhealthyAfter { get; init; } = 3;

    /// <summary>An instance that crashed this many times within <see cref="RestartWindow"/> is failed, not restarted.</summary>
    public int MaxRestarts { get; init; } = 5;
    public TimeSpan RestartWindow { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The first restart waits this long, each next one twice as long, up to a minute.</summary>
    public TimeSpan FirstBackoff { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan MetricsInterval { get; init; } = TimeSpan.FromSeconds(60);
    public TimeSpan SyncInterval { get; init; } = TimeSpan.FromSeconds(Protocol.RunnerProtocol.InstanceSyncSeconds);

    /// <summary>The host's clock, read for the times reported (started, ready, stopped); tests set one that runs off.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    public static InstanceHosting From(Func<string, string?> setting)
    {
        var hosting = new InstanceHosting
        {
            Enabled = setting(EnabledKey) is not { } on || on.Trim() is not ("0" or "false" or "no" or "off"),
            BindAddress = setting(BindKey) is { Length: > 0 } bind ? bind.Trim() : "127.0.0.1",
            AdvertisedAddress = setting(AddressKey) is { Length: > 0 } address ? address.Trim() : null,
            Database = OdooDatabaseServer.From(setting(OdooDatabaseServer.ConnectionKey)),
        };
        if (setting(PortsKey) is { Length: > 0 } ports)
        {
            var parts = ports.Split('-', 2);
            if (parts.Length != 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out var first)
                || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out var last) || first is < 1024 or > 65535 || last < first || last > 65535)
                throw new InvalidOperationException($"{PortsKey}: '{ports}' is not a port range such as 20000-29999 (1024-65535).");
            hosting = hosting with { FirstPort = first, LastPort = last };
        }
        return hosting with
        {
            HealthInterval = Seconds(setting, HealthKey, hosting.HealthInterval, 1, 300),
            HealthTimeout = Seconds(setting, HealthTimeoutKey, hosting.HealthTimeout, 1, 120),
            StartTimeout = Seconds(setting, StartTimeoutKey, hosting.StartTimeout, 5, 3600),
            MaxRestarts = (int)Number(setting, MaxRestartsKey, hosting.MaxRestarts, 1, 100),
            RestartWindow = TimeSpan.FromMinutes(Number(setting, RestartWindowKey, hosting.RestartWindow.TotalMinutes, 1, 1440)),
            MetricsInterval = Seconds(setting, MetricsKey, hosting.MetricsInterval, 1, 3600),
        };
    }

    static TimeSpan Seconds(Func<string, string?> setting, string key, TimeSpan fallback, double min, double max) =>
        TimeSpan.FromSeconds(Number(setting, key, fallback.TotalSeconds, min, max));

    static double Number(Func<string, string?> setting, string key, double fallback, double min, double max)
    {
        if (setting(key) is not { Length: > 0 } text) return fallback;
        return double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new InvalidOperationException($"{key}: '{text}' is not a number from {min} to {max}.");
    }
}
