using System.Diagnostics;
using System.Text.RegularExpressions;

namespace OdooOps.Tests.Backups.Storage;

/// <summary>
/// A real S3 server for the tests: s3rver (npm), installed by scripts/deps.sh into the tools folder
/// (ODOOOPS_TOOLS_DIR, else ~/.cache/odooops), run on a free loopback port with a temporary folder and one bucket.
/// Its credentials are s3rver's own (S3RVER / S3RVER), checked on every request (signature v4).
/// </summary>
public sealed partial class S3rver : IAsyncDisposable
{
    public const string Version = "3.7.1";
    public const string Bucket = "backups";
    public const string AccessKeyId = "S3RVER";
    public const string SecretAccessKey = "S3RVER";

    readonly Process _process;
    public string Directory { get; }
    public Uri Endpoint { get; }

    S3rver(Process process, string directory, Uri endpoint) => (_process, Directory, Endpoint) = (process, directory, endpoint);

    public static string Script
    {
        get
        {
            var tools = Environment.GetEnvironmentVariable("ODOOOPS_TOOLS_DIR") is { Length: > 0 } t ? t
                : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } x ? x
                    : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "odooops");
            return Path.Combine(tools, $"s3rver-{Version}", "node_modules", "s3rver", "bin", "s3rver.js");
        }
    }

    public static async Task<S3rver> StartAsync()
    {
        var script = Script;
        if (!File.Exists(script))
            throw new InvalidOperationException($"s3rver is not installed at {script}: run ./test.sh once (scripts/deps.sh ensure_s3rver installs it).");
        var dir = Path.Combine(Path.GetTempPath(), $"odooops-s3rver-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(dir);
        var psi = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])[script, "-d", dir, "-a", "127.0.0.1", "-p", "0", "--configure-bucket", Bucket, "--no-vhost-buckets"])
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi)!;
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && Listening().Match(line) is { Success: true } m) listening.TrySetResult(new Uri($"http://127.0.0.1:{m.Groups[1].Value}/"));
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _ = process.WaitForExitAsync().ContinueWith(_ => listening.TrySetException(new InvalidOperationException("s3rver exited before listening.")));
        var endpoint = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return new S3rver(process, dir, endpoint);
    }

    /// <summary>The server's settings of a storage in this bucket (OPS_BACKUP_* as an operator would write them).</summary>
    public Dictionary<string, string?> Settings(string prefix = "ops") => new()
    {
        ["OPS_BACKUP_STORAGE"] = $"s3://{Bucket}/{prefix}",
        ["OPS_BACKUP_S3_ENDPOINT"] = Endpoint.ToString(),
        ["OPS_BACKUP_S3_REGION"] = "us-east-1",
        ["OPS_BACKUP_S3_ACCESS_KEY_ID"] = AccessKeyId,
        ["OPS_BACKUP_S3_SECRET_ACCESS_KEY"] = SecretAccessKey,
    };

    /// <summary>The bucket goes away: the server process ends (its port then refuses connections).</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [GeneratedRegex(@"listening on [^\s:]+:(\d+)")]
    private static partial Regex Listening();
}
