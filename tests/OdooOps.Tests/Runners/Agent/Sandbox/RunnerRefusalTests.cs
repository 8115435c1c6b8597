using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Runners.Agent.Sandbox;

/// <summary>`odooops runner` on a host that cannot sandbox builds takes none: one line naming what to install, exit ≠ 0.</summary>
public sealed class RunnerRefusalTests : IDisposable
{
    readonly string _workDir = Directory.CreateTempSubdirectory("odooops-refusing-runner-").FullName;

    public void Dispose() => Directory.Delete(_workDir, recursive: true);

    [Fact]
    public async Task A_runner_without_bubblewrap_refuses_to_start_in_one_line()
    {
        var result = await CliRunner.RunAsync(["runner", "--url", "http://127.0.0.1:9", "--token", "oo_reg_x", "--work-dir", _workDir],
            new Dictionary<string, string> { ["OPS_SANDBOX_BWRAP"] = "/nonexistent/bwrap" });
        Assert.NotEqual(0, result.ExitCode);
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("The build sandbox cannot start: /nonexistent/bwrap (bubblewrap) was not found; install bubblewrap and slirp4netns", line);
        Assert.Contains("OPS_RUNNER_UNSANDBOXED=1", line);
        Assert.False(File.Exists(Path.Combine(_workDir, "runner-token"))); // nothing registered
    }
}
