using System.Diagnostics;
using Npgsql;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Cli;

/// <summary>
/// A throwaway HOME and XDG_CONFIG_HOME for CLI processes, so no test reads or writes the real user's config, plus
/// running the binary with text on stdin (CliRunner closes stdin at once).
/// </summary>
public sealed class CliSandbox : IDisposable
{
    public string Home { get; } = Path.Combine(Path.GetTempPath(), $"odooops-home-{Guid.NewGuid():N}");
    public string ConfigFile => Path.Combine(Home, ".config", "odooops", "config.json");

    public CliSandbox() => Directory.CreateDirectory(Home);

    public static string Url(NpgsqlConnectionStringBuilder cs) =>
        $"postgresql://{cs.Username}:{Uri.EscapeDataString(cs.Password!)}@{cs.Host}:{cs.Port}/{cs.Database}";

    /// <summary>The sandbox's environment; ODOOOPS_* are blanked so the machine's own settings cannot leak in.</summary>
    public Dictionary<string, string> Env(IDictionary<string, string>? extra = null)
    {
        var env = new Dictionary<string, string>
        {
            ["HOME"] = Home,
            ["XDG_CONFIG_HOME"] = Path.Combine(Home, ".config"),
            ["ODOOOPS_URL"] = "",
            ["ODOOOPS_TOKEN"] = "",
            ["OPS_NEW_PASSWORD"] = "",
        };
        if (extra is not null) foreach (var (k, v) in extra) env[k] = v;
        return env;
    }

    /// <summary>The CLI's error contract: a non-zero exit and exactly one "error: …" line on stderr, returned.</summary>
    public static string OneLineError(CliRunner.Result r)
    {
        Assert.NotEqual(0, r.ExitCode);
        var lines = r.Error.Trim().Split('\n');
        Assert.True(lines.Length == 1, r.Error);
        Assert.StartsWith("error: ", lines[0]);
        return lines[0];
    }

    public Task<CliRunner.Result> RunAsync(IEnumerable<string> args, IDictionary<string, string>? env = null, string? stdin = null) =>
        stdin is null ? CliRunner.RunAsync(args, Env(env)) : RunWithStdinAsync(args, Env(env), stdin);

    static async Task<CliRunner.Result> RunWithStdinAsync(IEnumerable<string> args, IDictionary<string, string> env, string stdin)
    {
        using var p = Process.Start(CliRunner.StartInfo(args, env))!;
        await p.StandardInput.WriteAsync(stdin);
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await p.WaitForExitAsync(cts.Token);
        return new CliRunner.Result(p.ExitCode, await stdout, await stderr);
    }

    public void Dispose()
    {
        try { Directory.Delete(Home, recursive: true); } catch (IOException) { }
    }
}
