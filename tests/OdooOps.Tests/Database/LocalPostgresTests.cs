using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Dapper;
using Npgsql;
using OdooOps.Database;
using OdooOps.Tests.Runners.Agent.Execution;

namespace OdooOps.Tests.Database;

/// <summary>The embedded cluster: first start, restart with data kept, crash leftovers, a taken port, a second owner, no binaries.</summary>
public sealed class LocalPostgresTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), $"odooops-lp-{Guid.NewGuid():N}"[..30]);
    static readonly LocalPostgresOptions Fast = new() { Durable = false };

    static async Task<T> ScalarAsync<T>(LocalPostgres pg, string sql)
    {
        var cs = pg.ConnectionString();
        cs.Pooling = false;
        await using var conn = new NpgsqlConnection(cs.ConnectionString);
        await conn.OpenAsync(TestContext.Current.CancellationToken);
        return (await conn.ExecuteScalarAsync<T>(sql))!;
    }

    [Fact]
    public async Task Restart_keeps_data_and_password_file_is_private()
    {
        await using (var pg = await LocalPostgres.StartAsync(_dir, Fast))
        {
            await ScalarAsync<int>(pg, "create table kept (v int); insert into kept values (42); select 1");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, "pg-password")));
            Assert.DoesNotContain("trust", File.ReadAllLines(Path.Combine(pg.ClusterDir, "pg_hba.conf")).Where(l => !l.TrimStart().StartsWith('#')).SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)));
        }
        await using (var pg = await LocalPostgres.StartAsync(_dir, Fast))
            Assert.Equal(42, await ScalarAsync<int>(pg, "select v from kept"));
    }

    [Fact]
    public async Task Wrong_password_is_refused()
    {
        await using var pg = await LocalPostgres.StartAsync(_dir, Fast);
        var cs = pg.ConnectionString();
        cs.Password = "not-the-password";
        cs.Pooling = false;
        await using var conn = new NpgsqlConnection(cs.ConnectionString);
        var e = await Assert.ThrowsAsync<PostgresException>(() => conn.OpenAsync(TestContext.Current.CancellationToken));
        Assert.Equal("28P01", e.SqlState);
    }

    [Fact]
    public async Task Starts_after_a_crash_left_a_stale_pid_file()
    {
        await using (var pg = await LocalPostgres.StartAsync(_dir, Fast)) { }
        // A postmaster.pid naming a process that is not this cluster's postmaster (here: a sleeping shell).
        using var stranger = Process.Start("sleep", "30");
        var pidFile = Path.Combine(_dir, "pg", "postmaster.pid");
        await File.WriteAllTextAsync(pidFile, $"{stranger.Id}\n{Path.Combine(_dir, "pg")}\n0\n5432\n", TestContext.Current.CancellationToken);
        try
        {
            await using var pg = await LocalPostgres.StartAsync(_dir, Fast);
            Assert.Equal(1, await ScalarAsync<int>(pg, "select 1"));
        }
        finally { stranger.Kill(); }
    }

    [Fact]
    public async Task Starts_after_the_postmaster_was_killed()
    {
        await using (var pg = await LocalPostgres.StartAsync(_dir, Fast))
        {
            var pid = int.Parse(File.ReadLines(Path.Combine(pg.ClusterDir, "postmaster.pid")).First());
            var cluster = ProcessProbe.ChildrenOf(pid).Append(pid).ToList();
            Process.GetProcessById(pid).Kill(); // SIGKILL: no clean shutdown, pid file left behind
            // Its server processes notice and exit, letting go of the shared memory a new postmaster must not find in
            // use; wait for that (as a restart after a real crash comes later), however long a busy machine takes.
            await ProcessProbe.WaitUntilGoneAsync(cluster, TimeSpan.FromMinutes(1));
        }
        await using var again = await LocalPostgres.StartAsync(_dir, Fast);
        Assert.Equal(1, await ScalarAsync<int>(again, "select 1"));
    }

    [Fact]
    public async Task Moves_to_a_free_port_when_the_last_one_is_taken()
    {
        int first;
        await using (var pg = await LocalPostgres.StartAsync(_dir, Fast)) first = pg.Port;
        var squatter = new TcpListener(IPAddress.Loopback, first);
        squatter.Start();
        try
        {
            await using var pg = await LocalPostgres.StartAsync(_dir, Fast);
            Assert.NotEqual(first, pg.Port);
            Assert.Equal(1, await ScalarAsync<int>(pg, "select 1"));
        }
        finally { squatter.Stop(); }
    }

    [Fact]
    public async Task A_second_owner_of_the_data_dir_is_refused_but_may_attach()
    {
        await using var pg = await LocalPostgres.StartAsync(_dir, Fast);
        var e = await Assert.ThrowsAsync<DataDirInUseException>(() => LocalPostgres.StartAsync(_dir, Fast));
        Assert.Contains("already using the data dir", e.Message);
        Assert.Contains(Environment.ProcessId.ToString(), e.Message);

        await using var attached = await LocalPostgres.StartOrAttachAsync(_dir, Fast);
        Assert.False(attached.OwnsCluster);
        Assert.Equal(pg.Port, attached.Port);
        Assert.Equal(1, await ScalarAsync<int>(attached, "select 1"));
    }

    [Fact]
    public async Task Says_what_to_install_when_binaries_are_missing()
    {
        var e = await Assert.ThrowsAsync<PostgresNotInstalledException>(
            () => LocalPostgres.StartAsync(_dir, new LocalPostgresOptions { BinariesSearchPath = "/nonexistent/bin" }));
        Assert.Contains("apt-get install postgresql", e.Message);
        Assert.Contains("OPS_DATABASE_URL", e.Message);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
