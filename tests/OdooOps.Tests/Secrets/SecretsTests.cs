using OdooOps.Secrets;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Secrets;

/// <summary>The specification's shared secrets: generated 0600, checked without being shown, required off loopback.</summary>
public sealed class SecretsTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), $"odooops-secrets-{Guid.NewGuid():N}");

    [Fact]
    public void Tokens_match_only_exactly()
    {
        var secrets = new OpsSecrets(new Dictionary<string, string> { [OpsSecrets.IngestToken] = TestHosts.IngestToken });
        Assert.True(secrets.Matches(OpsSecrets.IngestToken, TestHosts.IngestToken));
        Assert.False(secrets.Matches(OpsSecrets.IngestToken, TestHosts.IngestToken + "x"));
        Assert.False(secrets.Matches(OpsSecrets.IngestToken, TestHosts.IngestToken[..^1]));
        Assert.False(secrets.Matches(OpsSecrets.IngestToken, ""));
        Assert.False(secrets.Matches(OpsSecrets.IngestToken, null));
        Assert.False(secrets.Matches(OpsSecrets.AdvisoryScanToken, TestHosts.IngestToken));
    }

    [Theory]
    [InlineData(null, SecretState.Missing)]
    [InlineData("", SecretState.Missing)]
    [InlineData("changeme", SecretState.Weak)]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", SecretState.Weak)]
    [InlineData("0123456789abcdef0123456789abcdef", SecretState.Set)]
    public void Strength_rules(string? value, SecretState expected) => Assert.Equal(expected, OpsSecrets.Assess(value));

    [Theory]
    [InlineData("http://127.0.0.1:8080", true)]
    [InlineData("http://localhost:8080", true)]
    [InlineData("http://[::1]:8080", true)]
    [InlineData("http://127.0.0.1:8080;http://0.0.0.0:8081", false)]
    [InlineData("http://0.0.0.0:8080", false)]
    [InlineData("http://*:8080", false)]
    [InlineData("http://+:8080", false)]
    [InlineData("http://ops.example.com", false)]
    public void Loopback_detection(string urls, bool loopback) => Assert.Equal(loopback, SecretsSetup.IsLoopbackOnly(urls));

    [Fact]
    public async Task Generate_writes_a_private_file_and_refuses_to_overwrite_without_force()
    {
        var file = Path.Combine(_dir, "ops.env");
        var first = await CliRunner.RunAsync(["secrets", "generate", "--out", file]);
        Assert.True(first.ExitCode == 0, first.Error);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        var values = SecretsFile.Read(file);
        Assert.All(OpsSecrets.Names, n => Assert.Matches("^[0-9a-f]{64}$", values[n]));
        Assert.All(values.Values, v => Assert.DoesNotContain(v, first.Output));

        var again = await CliRunner.RunAsync(["secrets", "generate", "--out", file]);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("--force", again.Error);
        Assert.Equal(values, SecretsFile.Read(file));

        var rotated = await CliRunner.RunAsync(["secrets", "generate", "--out", file, "--force"]);
        Assert.Equal(0, rotated.ExitCode);
        Assert.NotEqual(values[OpsSecrets.IngestToken], SecretsFile.Read(file)[OpsSecrets.IngestToken]);
    }

    [Fact]
    public async Task Check_says_set_missing_or_weak_but_never_the_value()
    {
        var ok = await CliRunner.RunAsync(["secrets", "check", "--data-dir", _dir], new Dictionary<string, string>
        {
            [OpsSecrets.IngestToken] = TestHosts.IngestToken, [OpsSecrets.AdvisoryScanToken] = TestHosts.AdvisoryScanToken,
        });
        Assert.Equal(0, ok.ExitCode);
        Assert.Matches("✓ OPS_INGEST_TOKEN +set", ok.Output);
        Assert.DoesNotContain(TestHosts.IngestToken, ok.Output);

        var bad = await CliRunner.RunAsync(["secrets", "check", "--data-dir", _dir], new Dictionary<string, string> { [OpsSecrets.IngestToken] = "short" });
        Assert.Equal(1, bad.ExitCode);
        Assert.Matches("✗ OPS_INGEST_TOKEN +too weak", bad.Output);
        Assert.Matches("✗ OPS_ADVISORY_SCAN_TOKEN +missing", bad.Output);
        Assert.DoesNotContain("short", bad.Output.Replace("too weak", ""));
    }

    [Fact]
    public async Task Serve_beyond_loopback_refuses_missing_secrets_and_names_them()
    {
        var r = await CliRunner.RunAsync(["serve", "--urls", "http://0.0.0.0:18099", "--data-dir", _dir, "--database-url", "postgresql://nobody:x@127.0.0.1:1/none"],
            new Dictionary<string, string> { [OpsSecrets.AdvisoryScanToken] = "weak" });
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("OPS_INGEST_TOKEN missing", r.Error);
        Assert.Contains("OPS_ADVISORY_SCAN_TOKEN weak", r.Error);
        Assert.False(File.Exists(SecretsFile.DefaultPath(_dir)), "nothing is generated for a public address");
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (DirectoryNotFoundException) { }
    }
}
