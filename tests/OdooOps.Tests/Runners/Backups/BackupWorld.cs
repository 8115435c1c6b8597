using System.IO.Compression;
using System.Security.Cryptography;
using Dapper;
using Npgsql;
using OdooOps.Database;
using OdooOps.Runners.Agent.Backups;
using OdooOps.Runners.Agent.Execution;
using OdooOps.Runners.Agent.Instances;
using OdooOps.Runners.Agent.Sandbox;
using OdooOps.Tests.Infrastructure;
using OdooOps.Tests.Instances;

namespace OdooOps.Tests.Runners.Backups;

/// <summary>
/// What the backup engine's tests share: the suite's cluster administered by the embedded default's Odoo role (as the
/// runner's OPS_ODOO_DB), the machine's PostgreSQL programs, the stand-in odoo-bin to make real Odoo-like databases
/// with a filestore, a sandbox for plain SQL, and a folder of its own. Each test makes its own project (its own
/// database role), databases and folders.
/// </summary>
public sealed class BackupWorld : IAsyncDisposable
{
    readonly StandInProcessList _runs = new();

    BackupWorld(PostgresCluster cluster, OdooDatabaseServer server, string root)
    {
        (Cluster, Server, Root) = (cluster, server, root);
        OdooBin = OdooStandIn.Install(root);
        Postgres = PostgresBinaries.LocateClients();
        var settings = new SandboxSettings { LockDirectory = Path.Combine(root, "locks") };
        Sandbox = new SqlSandbox(settings, new SandboxUids(settings), Path.Combine(root, "work"));
    }

    public PostgresCluster Cluster { get; }
    internal OdooDatabaseServer Server { get; }
    internal PostgresBinaries Postgres { get; }
    internal SqlSandbox Sandbox { get; }
    public string Root { get; }
    public string OdooBin { get; }

    internal BackupWriter Writer => new(Server, Postgres);
    internal BackupRestorer Restorer => new(Server, Postgres, Sandbox);
    internal BackupVerifier Verifier => new(Restorer, Server);
    internal Neutralizer Neutralizer => new(Server);

    // Once per run: making the role sets its password again (a new SCRAM salt), and a login as the admin at that
    // very moment, by another test class, would fail.
    static readonly SemaphoreSlim AdminLock = new(1, 1);
    static string? _admin;

    public static async Task<BackupWorld> CreateAsync(PostgresCluster cluster)
    {
        await AdminLock.WaitAsync();
        try { _admin ??= await EmbeddedOdooRole.EnsureAsync(cluster.Server, cluster.Server.DataDir, CancellationToken.None); }
        finally { AdminLock.Release(); }
        return new BackupWorld(cluster, OdooDatabaseServer.From(_admin)!, NewRoot());
    }

    static string NewRoot()
    {
        var root = Path.Combine(Path.GetTempPath(), $"odooops-backups-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return root;
    }

    public static string NewDatabase(string prefix = "oo-bk") => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 17, 63)];

    /// <summary>A new folder under the world's root.</summary>
    public string Folder(string name) => Directory.CreateDirectory(Path.Combine(Root, $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)])).FullName;

    /// <summary>
    /// An Odoo database made as a runner makes one (the project's role owns it), initialised by the stand-in with
    /// <paramref name="modules"/> installed and its filestore under <paramref name="dataDir"/>; <paramref name="version"/>: the Odoo it claims.
    /// </summary>
    internal async Task<OdooData> OdooDatabaseAsync(Guid projectId, string dataDir, string modules = "base,sale", string version = "17.0", bool production = false)
    {
        var db = NewDatabase();
        await Server.EnsureDatabaseAsync(projectId, production, db, CancellationToken.None);
        var env = new Dictionary<string, string>(Server.ProjectClientEnvironment(projectId, production))
        {
            ["PATH"] = "/usr/local/bin:/usr/bin:/bin", ["HOME"] = Root, ["STANDIN_ODOO_VERSION"] = version,
        };
        var (code, output) = await RunOdooAsync(["-d", db, "-D", dataDir, "-i", modules, "--stop-after-init"], env);
        Assert.True(code == 0, output);
        return new OdooData(projectId, production, db, OdooData.FilestoreOf(dataDir, db));
    }

    /// <summary>Runs the stand-in odoo-bin to its end: its exit code and log.</summary>
    public async Task<(int Code, string Output)> RunOdooAsync(IEnumerable<string> arguments, IReadOnlyDictionary<string, string> env)
    {
        var run = _runs.Add(StandInProcess.Start(OdooBin, arguments, env, Root));
        return (await run.WaitForExitAsync(TimeSpan.FromSeconds(120)), run.Output);
    }

    internal IReadOnlyDictionary<string, string> OdooEnv(Guid projectId, bool production = false, string version = "17.0") =>
        new Dictionary<string, string>(Server.ProjectClientEnvironment(projectId, production))
        {
            ["PATH"] = "/usr/local/bin:/usr/bin:/bin", ["HOME"] = Root, ["STANDIN_ODOO_VERSION"] = version,
        };

    /// <summary>As the cluster's superuser (the test's own view, never the engine's).</summary>
    public async Task<NpgsqlConnection> SuperConnectAsync(string database)
    {
        var conn = new NpgsqlConnection(Cluster.ConnectionString(database).ConnectionString);
        await conn.OpenAsync();
        return conn;
    }

    public async Task<bool> DatabaseExistsAsync(string database)
    {
        await using var conn = await SuperConnectAsync("postgres");
        return await conn.ExecuteScalarAsync<bool>("select exists (select 1 from pg_database where datname = @database)", new { database });
    }

    /// <summary>Every table's rows (an MD5 of them in order) and every sequence's position: equal means the same data.</summary>
    public async Task<SortedDictionary<string, string>> ContentsAsync(string database)
    {
        await using var conn = await SuperConnectAsync(database);
        var contents = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var table in await conn.QueryAsync<string>(
                     "select quote_ident(schemaname) || '.' || quote_ident(tablename) from pg_tables where schemaname not in ('pg_catalog', 'information_schema')"))
            contents[table] = await conn.ExecuteScalarAsync<string>(
                $"select count(*) || ':' || coalesce(md5(string_agg(t::text, '|' order by t::text)), '') from {table} t") ?? "";
        foreach (var sequence in await conn.QueryAsync<string>(
                     "select quote_ident(schemaname) || '.' || quote_ident(sequencename) from pg_sequences where schemaname not in ('pg_catalog', 'information_schema')"))
            contents[sequence] = await conn.ExecuteScalarAsync<string>($"select last_value || ':' || is_called from {sequence}") ?? "";
        return contents;
    }

    /// <summary>Every file below <paramref name="folder"/>: relative path → SHA-256.</summary>
    public static SortedDictionary<string, string> Files(string folder)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (!Directory.Exists(folder)) return files;
        foreach (var file in Directory.EnumerateFiles(folder, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
            files[Path.GetRelativePath(folder, file)] = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)));
        return files;
    }

    /// <summary>Writes a backup of <paramref name="source"/> to a file, through a stream that cannot seek (as an HTTP body).</summary>
    internal async Task<(string Zip, OdooOps.Runners.Protocol.RunnerProtocol.BackupFacts Facts, List<string> Log)> BackupAsync(OdooData source, string version = "17.0")
    {
        var zip = Path.Combine(Folder("zips"), "backup.zip");
        var log = new List<string>();
        await using var file = File.Create(zip);
        await using var stream = new ForwardOnlyStream(file);
        var facts = await Writer.WriteAsync(source, version, stream, line => { lock (log) log.Add(line); }, TestContext.Current.CancellationToken);
        return (zip, facts, log);
    }

    /// <summary>Copies a zip entry by entry into a new one, letting <paramref name="change"/> drop (null) or replace an entry's bytes.</summary>
    public static string Rewrite(string zip, Func<string, byte[], byte[]?> change)
    {
        var copy = Path.Combine(Path.GetDirectoryName(zip)!, $"rewritten-{Guid.NewGuid():N}.zip");
        using var source = ZipFile.OpenRead(zip);
        using var target = ZipFile.Open(copy, ZipArchiveMode.Create);
        foreach (var entry in source.Entries)
        {
            using var input = entry.Open();
            using var buffer = new MemoryStream();
            input.CopyTo(buffer);
            if (change(entry.FullName, buffer.ToArray()) is not { } bytes) continue;
            using var output = target.CreateEntry(entry.FullName, CompressionLevel.NoCompression).Open();
            output.Write(bytes);
        }
        return copy;
    }

    public async ValueTask DisposeAsync()
    {
        await _runs.DisposeAsync();
        WorkspaceFolder.Delete(Root);
    }

    sealed class StandInProcessList : IAsyncDisposable
    {
        readonly List<StandInProcess> _list = [];
        public StandInProcess Add(StandInProcess process)
        {
            lock (_list) _list.Add(process);
            return process;
        }
        public async ValueTask DisposeAsync()
        {
            foreach (var process in _list) await process.DisposeAsync();
        }
    }
}

/// <summary>A stream that only goes forward, as an HTTP request body: no seeking, no position, no length.</summary>
public sealed class ForwardOnlyStream(Stream inner) : Stream
{
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() => inner.Flush();
    public override Task FlushAsync(CancellationToken ct) => inner.FlushAsync(ct);
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default) => inner.WriteAsync(buffer, ct);
}
