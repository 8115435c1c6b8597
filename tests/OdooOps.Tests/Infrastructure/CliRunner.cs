using System.Diagnostics;

namespace OdooOps.Tests.Infrastructure;

/// <summary>Runs the real `odooops` binary (built beside the tests) as a separate process.</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Output, string Error);

    static string Binary => Path.Combine(AppContext.BaseDirectory, "odooops.dll");

    public static ProcessStartInfo StartInfo(IEnumerable<string> args, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        psi.ArgumentList.Add(Binary);
        foreach (var a in args) psi.ArgumentList.Add(a);
        // The test machine's own configuration must not leak into the binary under test.
        psi.Environment.Remove("OPS_DATABASE_URL");
        psi.Environment.Remove("OPS_DATA_DIR");
        psi.Environment.Remove("OPS_DEMO_PASSWORD");
        psi.Environment["OPS_ALLOW_LOCAL_REPOS"] = "1"; // the tests' repositories are folders (a test of the rule sets it to 0)
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        return psi;
    }

    public static async Task<Result> RunAsync(IEnumerable<string> args, IDictionary<string, string>? env = null, TimeSpan? timeout = null)
    {
        using var p = Process.Start(StartInfo(args, env))!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"odooops {string.Join(' ', args)} did not finish: {await stdout} {await stderr}");
        }
        return new Result(p.ExitCode, await stdout, await stderr);
    }
}
