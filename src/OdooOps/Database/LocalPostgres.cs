using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;

namespace OdooOps.Database;

/// <summary>
/// The embedded default: a private PostgreSQL cluster in <c>&lt;data-dir&gt;/pg</c>, run from the machine's binaries,
/// listening on 127.0.0.1 on a free port with a private socket folder and a generated password (never trust).
/// One process owns a data dir at a time (an exclusive lock file); others may attach to the running cluster.
/// The test suite starts its throwaway cluster with this same class.
/// </summary>
public sealed class LocalPostgres : IAsyncDisposable
{
    public const string SuperUser = "odooops";
    public const string DatabaseName = "odooops";

    readonly PostgresBinaries _bin;
    readonly LocalPostgresOptions _options;
    FileStream? _lock;

    public string DataDir { get; }
    public string ClusterDir => Path.Combine(DataDir, "pg");
    string PasswordFile => Path.Combine(DataDir, "pg-password");
    string PortFile => Path.Combine(DataDir, "pg-port");
    string LockFile => Path.Combine(DataDir, "odooops.lock");
    // The holder's pid lives beside the lock: a locked file cannot be read by anyone else.
    string PidFile => Path.Combine(DataDir, "odooops.pid");
    string LogDir => Path.Combine(DataDir, "log");
    /// <summary>The server's log, in a folder the postgres user may write.</summary>
    public string LogFile => Path.Combine(LogDir, "postgres.log");
    public int Port { get; private set; }
    /// <summary>True when this process started the cluster and stops it on dispose.</summary>
    public bool OwnsCluster { get; private set; }

    LocalPostgres(PostgresBinaries bin, string dataDir, LocalPostgresOptions options)
    {
        _bin = bin;
        DataDir = Path.GetFullPath(dataDir);
        _options = options;
    }

    /// <summary>Starts the cluster (initialising it on first use) and takes the data dir's lock.</summary>
    public static async Task<LocalPostgres> StartAsync(string dataDir, LocalPostgresOptions? options = null, CancellationToken ct = default)
    {
        var pg = new LocalPostgres(PostgresBinaries.Locate(options?.BinariesSearchPath), dataDir, options ?? new());
        try
        {
            await pg.StartCoreAsync(ct);
            return pg;
        }
        catch
        {
            pg._lock?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Starts the cluster, or when another OdooOps process owns this data dir, connects to the cluster it runs
    /// (so `odooops db status` works beside a running `serve`).
    /// </summary>
    public static async Task<LocalPostgres> StartOrAttachAsync(string dataDir, LocalPostgresOptions? options = null, CancellationToken ct = default)
    {
        try { return await StartAsync(dataDir, options, ct); }
        catch (DataDirInUseException)
        {
            var pg = new LocalPostgres(PostgresBinaries.Locate(options?.BinariesSearchPath), dataDir, options ?? new());
            pg.Port = int.Parse(File.ReadAllText(pg.PortFile).Trim());
            return pg;
        }
    }

    public NpgsqlConnectionStringBuilder ConnectionString(string? database = null) => new()
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = SuperUser,
        Password = File.ReadAllText(PasswordFile).Trim(),
        Database = database ?? DatabaseName,
        // The embedded cluster is ours alone; keep the pool small but ready.
        MaxPoolSize = 50,
    };

    async Task StartCoreAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(DataDir);
        if (PostgresBinaries.IsRoot)
        {
            // The postgres user must traverse the data dir to reach pg/, but must not read our files in it.
            File.SetUnixFileMode(DataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
            await EnsurePostgresUserCanReachAsync(ct);
        }
        AcquireLock();

        if (!File.Exists(Path.Combine(ClusterDir, "PG_VERSION")))
            await InitDbAsync(ct);
        await RemoveStalePidFileAsync(ct);
        Port = ChoosePort();
        var socketDir = SocketDir();
        Directory.CreateDirectory(socketDir);
        await GiveToPostgresAsync(socketDir, ct);
        Directory.CreateDirectory(LogDir);
        await GiveToPostgresAsync(LogDir, ct);

        var settings = new List<string> { $"-p {Port}", $"-k {socketDir}", "-c listen_addresses=127.0.0.1", "-c max_connections=200" };
        if (!_options.Durable)
            settings.AddRange(["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]);
        var result = await _bin.RunServerToolAsync("pg_ctl",
            ["start", "-w", "-t", "60", "-D", ClusterDir, "-l", LogFile, "-o", string.Join(' ', settings)], ct);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"PostgreSQL did not start: {result.Describe()} (see {LogFile}: {TailLog()})");
        OwnsCluster = true;
        await File.WriteAllTextAsync(PortFile, Port.ToString(), ct);
        await EnsureDatabaseAsync(ct);
    }

    async Task EnsurePostgresUserCanReachAsync(CancellationToken ct)
    {
        var check = await ProcessRunner.RunAsync("runuser", ["-u", "postgres", "--", "test", "-x", DataDir], null, ct);
        if (check.ExitCode != 0)
            throw new InvalidOperationException(
                $"The postgres OS user cannot reach {DataDir} (a parent folder is not searchable by others). Choose a data dir such as /var/lib/odooops with --data-dir or OPS_DATA_DIR.");
    }

    void AcquireLock()
    {
        try
        {
            // FileShare.None takes an exclusive flock: a second process on this data dir fails here.
            _lock = new FileStream(LockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            File.WriteAllText(PidFile, Environment.ProcessId.ToString());
        }
        catch (IOException)
        {
            string holder = "";
            try { holder = File.ReadAllText(PidFile).Trim(); } catch (IOException) { }
            throw new DataDirInUseException(
                $"Another OdooOps process{(holder.Length > 0 ? $" (pid {holder})" : "")} is already using the data dir {DataDir}.");
        }
    }

    async Task InitDbAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(ClusterDir);
        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        await File.WriteAllTextAsync(PasswordFile, password, ct);
        File.SetUnixFileMode(PasswordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        // initdb reads the password from a file the postgres user can read; it lives inside pg/ only for the call.
        var pwfile = Path.Combine(DataDir, "pg-initpw");
        await File.WriteAllTextAsync(pwfile, password + "\n", ct);
        File.SetUnixFileMode(pwfile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        try
        {
            await GiveToPostgresAsync(ClusterDir, ct);
            await GiveToPostgresAsync(pwfile, ct);
            var result = await _bin.RunServerToolAsync("initdb",
                ["-D", ClusterDir, "-U", SuperUser, "--pwfile", Path.GetFullPath(pwfile), "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-instructions"], ct);
            if (result.ExitCode != 0)
            {
                Directory.Delete(ClusterDir, recursive: true);
                throw new InvalidOperationException($"initdb failed: {result.Describe()}");
            }
        }
        finally
        {
            File.Delete(pwfile);
        }
    }

    async Task GiveToPostgresAsync(string path, CancellationToken ct)
    {
        if (!PostgresBinaries.IsRoot) return;
        var result = await ProcessRunner.RunAsync("chown", ["-R", "postgres:postgres", path], null, ct);
        if (result.ExitCode != 0) throw new InvalidOperationException($"chown of {path} failed: {result.Describe()}");
    }

    /// <summary>
    /// After a crash postmaster.pid may name a process that is gone, or a PID reused by another program
    /// (common in containers): postgres would refuse to start. A live postmaster of this cluster (an orphan
    /// of a killed OdooOps; we hold the lock) is stopped so that we start it with our settings.
    /// </summary>
    async Task RemoveStalePidFileAsync(CancellationToken ct)
    {
        var pidFile = Path.Combine(ClusterDir, "postmaster.pid");
        if (!File.Exists(pidFile)) return;
        var firstLine = File.ReadLines(pidFile).FirstOrDefault()?.Trim();
        if (int.TryParse(firstLine, out var pid) && IsPostmasterOf(pid))
        {
            await _bin.RunServerToolAsync("pg_ctl", ["stop", "-D", ClusterDir, "-m", "fast", "-w", "-t", "60"], ct);
            if (!File.Exists(pidFile)) return;
        }
        File.Delete(pidFile);
    }

    bool IsPostmasterOf(int pid)
    {
        try
        {
            var cmdline = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
            return cmdline.Contains("postgres") && cmdline.Contains(ClusterDir);
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    /// <summary>The port used last time when it is still free (stable URLs for the user), else a new free one.</summary>
    int ChoosePort()
    {
        if (File.Exists(PortFile) && int.TryParse(File.ReadAllText(PortFile).Trim(), out var last) && IsFree(last))
            return last;
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    static bool IsFree(int port)
    {
        try
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException) { return false; }
    }

    /// <summary>The folder of the cluster's Unix socket (.s.PGSQL.&lt;port&gt;).</summary>
    public string SocketDirectory => SocketDir();

    /// <summary>A unix socket path must stay under ~107 bytes; deep data dirs get a short folder in /tmp.</summary>
    string SocketDir()
    {
        var inside = Path.Combine(DataDir, "run");
        if (inside.Length + 20 < 100) return inside;
        var hash = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(DataDir)))[..12];
        return Path.Combine(Path.GetTempPath(), $"odooops-{hash}");
    }

    async Task EnsureDatabaseAsync(CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(ConnectionString("postgres").ConnectionString);
        await conn.OpenAsync(ct);
        await using var exists = new NpgsqlCommand("select 1 from pg_database where datname = $1", conn) { Parameters = { new() { Value = DatabaseName } } };
        if (await exists.ExecuteScalarAsync(ct) is null)
        {
            await using var create = new NpgsqlCommand($"create database {DatabaseName}", conn);
            await create.ExecuteNonQueryAsync(ct);
        }
    }

    string TailLog()
    {
        try { return string.Join(" | ", File.ReadLines(LogFile).TakeLast(5)); }
        catch (IOException) { return "no log"; }
    }

    /// <param name="discard">The cluster is deleted next (a test run's): stop at once, without the shutdown
    /// checkpoint, whose writes a loaded machine can take over a minute to finish; recent commits may be lost.</param>
    public async Task StopAsync(bool discard = false)
    {
        if (OwnsCluster)
        {
            NpgsqlConnection.ClearAllPools();
            var result = await _bin.RunServerToolAsync("pg_ctl", ["stop", "-D", ClusterDir, "-m", discard ? "immediate" : "fast", "-w", "-t", "60"]);
            if (result.ExitCode != 0)
                Console.Error.WriteLine($"PostgreSQL did not stop cleanly: {result.Describe()}");
            OwnsCluster = false;
        }
        if (_lock is not null)
        {
            await _lock.DisposeAsync();
            _lock = null;
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());
}

public sealed record LocalPostgresOptions
{
    /// <summary>Off for throwaway test clusters: no fsync, much faster, lost on a crash.</summary>
    public bool Durable { get; init; } = true;
    /// <summary>Only for tests: look for binaries on this PATH alone.</summary>
    public string? BinariesSearchPath { get; init; }
}

internal sealed class DataDirInUseException(string message) : Exception(message);
