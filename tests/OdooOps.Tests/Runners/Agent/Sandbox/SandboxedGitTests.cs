using System.Net;
using System.Net.Sockets;
using System.Text;
using OdooOps.Runners.Agent.Execution;
using OdooOps.Runners.Agent.Sandbox;
using OdooOps.Tests.Runners.Agent.Execution;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Tests.Runners.Agent.Sandbox;

/// <summary>
/// git in a build's sandbox with the project's credential: the token reaches the fetch as an HTTP header and nothing
/// else (not the log, not the command line); an SSH key lives as a 0600 file of the build's uid for the fetch only, and
/// the runner's own agent is never offered.
/// </summary>
public sealed class SandboxedGitTests : IAsyncDisposable
{
    readonly string _dir = ProcessProbe.NewTempDir("odooops-sandboxed-git");
    readonly LineRecorder _recorder = new();
    BuildSandbox? _sandbox;

    public async ValueTask DisposeAsync()
    {
        if (_sandbox is not null) await _sandbox.EndAsync();
        WorkspaceFolder.Delete(_dir);
    }

    async Task<BuildSandbox> SandboxAsync()
    {
        var settings = new SandboxSettings { LockDirectory = Path.Combine(_dir, "locks") };
        return _sandbox = await BuildSandbox.CreateAsync(settings, new SandboxUids(settings), Path.Combine(_dir, "work"), Guid.NewGuid(),
            TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_token_reaches_the_fetch_as_a_basic_header_and_never_the_log()
    {
        const string Token = "ghp_s3cr3tTokenValue1234567890";
        using var server = new TcpListener(ProcessProbe.ExternalAddress(), 0);
        server.Start();
        var endpoint = (IPEndPoint)server.LocalEndpoint;
        var request = AnswerOneAsync(server);

        var workspace = new GitWorkspace(Path.Combine(_dir, "work"), new GitWorkspaceOptions
        {
            Sandbox = await SandboxAsync(), Credential = new GitCredential(GitCredential.Token, null, Token),
        });
        var e = await Assert.ThrowsAsync<GitCheckoutException>(() => workspace.CheckoutAsync(Guid.NewGuid(),
            new GitSource($"http://{endpoint.Address}:{endpoint.Port}/acme/erp.git", Branch: "main"), _recorder.Add,
            TestContext.Current.CancellationToken));

        Assert.Equal(GitFailure.RepositoryNotFound, e.Failure);
        server.Stop(); // git is done: a request that never came ends the wait for it
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"x-access-token:{Token}"));
        Assert.Contains($"Authorization: Basic {basic}", await request);
        Assert.DoesNotContain(_recorder.Lines, l => l.Text.Contains(Token) || l.Text.Contains(basic));
        Assert.DoesNotContain(Token, e.Message);
    }

    [Fact]
    public async Task An_ssh_key_is_a_file_of_the_builds_uid_for_the_fetch_only_and_no_agent_is_offered()
    {
        Environment.SetEnvironmentVariable("SSH_AUTH_SOCK", "/tmp/runner-agent.sock"); // the runner's own agent
        var sandbox = await SandboxAsync();
        var key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----";
        var access = await GitAccess.OpenAsync(new GitWorkspaceOptions { Sandbox = sandbox, Credential = new GitCredential(GitCredential.SshKey, null, key) },
            TestContext.Current.CancellationToken);
        var file = Directory.GetFiles(Path.Combine(_dir, "work", "sandboxes"), "odooops-repository-key", SearchOption.AllDirectories).Single();
        try
        {
            Assert.Contains(" -i /home/odooops/.ssh/odooops-repository-key", access.Environment["GIT_SSH_COMMAND"]);
            Assert.Contains("-o IdentityAgent=none", access.Environment["GIT_SSH_COMMAND"]);
            Assert.DoesNotContain("SSH_AUTH_SOCK", access.Environment.Keys);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            var owner = await OdooOps.Database.ProcessRunner.RunAsync("stat", ["-c", "%u", file], null, TestContext.Current.CancellationToken);
            Assert.Equal(sandbox.Uid.ToString(), owner.Output.Trim());
            Assert.Equal(key + "\n", await File.ReadAllTextAsync(file, TestContext.Current.CancellationToken));
        }
        finally
        {
            await access.DisposeAsync();
            Environment.SetEnvironmentVariable("SSH_AUTH_SOCK", null);
        }
        Assert.False(File.Exists(file)); // gone before the first step runs
    }

    /// <summary>Answers one HTTP request 401 (no credential is ever good enough here) and returns its head.</summary>
    static async Task<string> AnswerOneAsync(TcpListener server)
    {
        var heads = new StringBuilder();
        // git asks again with the credential after a 401 only when it has none to send first: read until one carries it.
        for (var i = 0; i < 3; i++)
        {
            TcpClient client;
            try { client = await server.AcceptTcpClientAsync(); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { break; }
            using var _ = client;
            var stream = client.GetStream();
            var buffer = new byte[16384];
            var head = new StringBuilder();
            while (!head.ToString().Contains("\r\n\r\n"))
            {
                var n = await stream.ReadAsync(buffer);
                if (n == 0) break;
                head.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }
            heads.Append(head);
            var text = head.ToString();
            await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
            if (text.Contains("Authorization:")) break;
        }
        return heads.ToString();
    }
}
