using System.Net;
using Microsoft.Extensions.Configuration;

namespace OdooOps.Secrets;

/// <summary>
/// Where each secret comes from (configuration — flags, environment, appsettings.json — then the data dir's
/// secrets.env) and what `serve` does about a missing or weak one: on a loopback address it generates the missing
/// ones into the data dir and says where; bound to anything else it refuses to start and names the secret. The
/// <see cref="SecretsKey"/> is resolved with them.
/// </summary>
internal static class SecretsSetup
{
    public sealed record Report(string Name, SecretState State, string Source);

    public static IReadOnlyList<Report> Inspect(IConfiguration config, string dataDir)
    {
        var file = SecretsFile.Read(SecretsFile.DefaultPath(dataDir));
        return [.. OpsSecrets.Names.Select(name =>
        {
            if (config[name] is { Length: > 0 } configured) return new Report(name, OpsSecrets.Assess(configured), "configuration");
            if (file.TryGetValue(name, out var stored)) return new Report(name, OpsSecrets.Assess(stored), SecretsFile.DefaultPath(dataDir));
            return new Report(name, SecretState.Missing, "");
        })];
    }

    /// <summary>A secret's value as serve would resolve it here (configuration, then the data dir's file); null when unset.</summary>
    public static string? Value(IConfiguration config, string name)
    {
        if (config[name] is { Length: > 0 } configured) return configured;
        var file = SecretsFile.Read(SecretsFile.DefaultPath(Configuration.OpsConfiguration.ResolveDataDir(config)));
        return file.TryGetValue(name, out var stored) && stored.Length > 0 ? stored : null;
    }

    public static OpsSecrets Resolve(IConfiguration config, string dataDir, string urls, TextWriter output)
    {
        var reports = Inspect(config, dataDir);
        var bad = reports.Where(r => r.State != SecretState.Set).ToList();
        if (bad.Count > 0 && !IsLoopbackOnly(urls))
            throw new InvalidOperationException(
                $"Refusing to serve on {urls} with {string.Join(", ", bad.Select(r => $"{r.Name} {r.State.ToString().ToLowerInvariant()}"))}: set strong values (odooops secrets generate) in the environment or {SecretsFile.DefaultPath(dataDir)}.");
        var weakConfigured = bad.Where(r => r.State == SecretState.Weak && r.Source == "configuration").ToList();
        if (weakConfigured.Count > 0)
            output.WriteLine($"Warning: {string.Join(", ", weakConfigured.Select(r => r.Name))} too weak; acceptable on loopback only.");
        var toGenerate = bad.Where(r => r.Source != "configuration").Select(r => r.Name).ToList();
        if (toGenerate.Count > 0)
        {
            var path = SecretsFile.DefaultPath(dataDir);
            SecretsFile.Write(path, toGenerate.ToDictionary(n => n, _ => OpsSecrets.Generate()));
            output.WriteLine($"Generated {string.Join(", ", toGenerate)} into {path} (loopback only; set them yourself before exposing OdooOps).");
        }
        var file = SecretsFile.Read(SecretsFile.DefaultPath(dataDir));
        return new OpsSecrets(OpsSecrets.Names.ToDictionary(n => n, n => config[n] is { Length: > 0 } v ? v : file[n]),
            SecretsKey.Resolve(config, dataDir, output));
    }

    /// <summary>True when every address the server binds is a loopback one (127.0.0.0/8, ::1, localhost).</summary>
    public static bool IsLoopbackOnly(string urls) =>
        urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).All(url =>
        {
            if (!Uri.TryCreate(url.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0"), UriKind.Absolute, out var uri)) return false;
            return uri.Host == "localhost" || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
        });
}
