using System.Security.Cryptography;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Instances;

/// <summary>
/// The stand-in odoo-bin's command line and database work, run for real against the suite's cluster: it must answer
/// like Odoo's odoo-bin, so that what OdooOps does with it is what it would do with a real Odoo.
/// </summary>
public sealed class OdooStandInTests(PostgresCluster cluster) : IAsyncLifetime
{
    StandInWorld _world = null!;

    public async ValueTask InitializeAsync() => _world = await StandInWorld.CreateAsync(cluster);
    public ValueTask DisposeAsync() => _world.DisposeAsync();

    [Fact]
    public async Task Version_unknown_options_and_unknown_commands_answer_like_odoo_bin()
    {
        var (code, run) = await _world.RunAsync(["--version"]);
        Assert.Equal(0, code);
        Assert.Equal(["Odoo Server 19.0"], run.Stdout);

        var env = _world.Env();
        env["STANDIN_ODOO_VERSION"] = "17.0";
        (code, run) = await _world.RunAsync(["--version"], env);
        Assert.Equal(["Odoo Server 17.0"], run.Stdout);

        (code, run) = await _world.RunAsync(["-d", "x", "--no-such-option"]);
        Assert.Equal(2, code);
        Assert.Equal("odoo-bin: error: no such option: --no-such-option", run.Log[^1]);

        (code, run) = await _world.RunAsync(["--log-level=loud"]);
        Assert.Equal(2, code);
        Assert.Contains("odoo-bin: error: option --log-level: invalid choice: 'loud'", run.Output);

        (code, run) = await _world.RunAsync(["--addons-path", "/no/such/folder"]);
        Assert.Equal(2, code);
        Assert.Contains("odoo-bin: error: option --addons-path: no such directory: '/no/such/folder'", run.Output);

        (code, run) = await _world.RunAsync(["shell", "-d", "x"]);
        Assert.Equal(1, code);
        Assert.Equal(["Unknown command 'shell'"], run.Log);
    }

    [Fact]
    public async Task Install_creates_the_database_its_tables_and_a_filestore_with_the_manifest_versions()
    {
        _world.AddModule("shop", "1.0", ["sale", "shop_base"]);
        _world.AddModule("shop_base", "19.0.2.1", tests: 3);
        var db = StandInWorld.NewDatabase();
        // The connection and folders come from the configuration file only: libpq's variables are not set.
        var config = Path.Combine(_world.Root, "odoo.conf");
        await File.WriteAllTextAsync(config, $"""
            [options]
            db_host = 127.0.0.1
            db_port = {_world.PgPort}
            db_user = {_world.Role}
            db_password = {_world.Password}
            data_dir = {_world.DataDir}
            addons_path = {_world.Addons}
            workers = 0
            """);
        var (code, run) = await _world.RunAsync(["-c", config, $"--database={db}", "-i", "shop,nope", "--test-enable", "--stop-after-init"],
            new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin", ["HOME"] = _world.Root });

        Assert.True(code == 0, run.Output);
        Assert.Equal(
            ["base installed 19.0.1.3", "sale installed 19.0.1.0", "shop installed 19.0.1.0", "shop_base installed 19.0.2.1", "web installed 19.0.1.0"],
            await _world.QueryAsync<string>(db, "select concat_ws(' ', name, state, latest_version) from ir_module_module where state = 'installed' order by name"));
        Assert.Contains(run.Log, l => l.EndsWith($" WARNING {db} odoo.modules.loading: invalid module names, ignored: nope ", StringComparison.Ordinal));
        Assert.Contains(run.Log, l => l.Contains($" odoo.tests.result: 0 failed, 0 error(s) of 3 tests when loading database '{db}'", StringComparison.Ordinal));
        Assert.Contains(run.Log, l => l.Contains($" odoo: Using configuration file at {config}", StringComparison.Ordinal));
        Assert.Equal(["database.create_date", "database.secret", "database.uuid", "web.base.url"],
            await _world.QueryAsync<string>(db, "select key from ir_config_parameter order by key"));
        Assert.Equal(["admin"], await _world.QueryAsync<string>(db, "select login from res_users where active"));
        Assert.Contains("Base: Auto-vacuum internal data", await _world.QueryAsync<string>(db, "select name from ir_cron where active"));
        Assert.Equal(["smtp.example.com"], await _world.QueryAsync<string>(db, "select smtp_host from ir_mail_server where active"));

        var attachments = await _world.QueryAsync<(string Name, string StoreFname, string Checksum, int FileSize)>(db,
            "select name, store_fname, checksum, file_size from ir_attachment order by id");
        Assert.Equal(5, attachments.Count); // one per installed module
        Assert.Contains(attachments, a => a.Name == "shop_base-19.0.2.1.txt");
        foreach (var a in attachments)
        {
            Assert.Equal($"{a.Checksum[..2]}/{a.Checksum}", a.StoreFname);
            var bytes = await File.ReadAllBytesAsync(Path.Combine(_world.DataDir, "filestore", db, a.StoreFname));
            Assert.Equal(a.Checksum, Convert.ToHexStringLower(SHA1.HashData(bytes)));
            Assert.Equal(a.FileSize, bytes.Length);
        }
    }

    [Fact]
    public async Task Update_refreshes_the_named_installed_modules_and_update_all_every_installed_one()
    {
        _world.AddModule("shop", "1.0", ["shop_base"]);
        _world.AddModule("shop_base", "2.1");
        var db = StandInWorld.NewDatabase();
        var (code, run) = await _world.RunAsync(["-d", db, "--addons-path", _world.Addons, "-D", _world.DataDir, "-i", "shop", "--stop-after-init"]);
        Assert.True(code == 0, run.Output);

        _world.AddModule("shop", "1.1", ["shop_base"]);
        _world.AddModule("shop_base", "19.0.2.2");
        (code, run) = await _world.RunAsync(["--database", db, "--addons-path", _world.Addons, "--data-dir", _world.DataDir, "--update", "shop", "--stop-after-init"]);
        Assert.True(code == 0, run.Output);
        Assert.Equal(["shop 19.0.1.1", "shop_base 19.0.2.1"], await Versions(db));

        (code, run) = await _world.RunAsync([$"-d{db}", $"--addons-path={_world.Addons}", $"-D{_world.DataDir}", "-u", "all", "--stop-after-init"]);
        Assert.True(code == 0, run.Output);
        Assert.Equal(["shop 19.0.1.1", "shop_base 19.0.2.2"], await Versions(db));
        Assert.Contains("shop_base-19.0.2.2.txt", await _world.QueryAsync<string>(db, "select name from ir_attachment"));
    }

    Task<List<string>> Versions(string db) =>
        _world.QueryAsync<string>(db, "select name || ' ' || latest_version from ir_module_module where name like 'shop%' order by name");

    [Fact]
    public async Task Command_line_options_win_over_the_configuration_file()
    {
        var db = StandInWorld.NewDatabase();
        var config = Path.Combine(_world.Root, "wrong.conf");
        await File.WriteAllTextAsync(config, $"[options]\ndb_host = 127.0.0.1\ndb_port = {_world.PgPort}\ndb_user = nobody_here\n" +
                                             $"db_password = wrong\ndata_dir = {Path.Combine(_world.Root, "not-this-one")}\n");
        var (code, run) = await _world.RunAsync(["--config", config, "-d", db, "--db_user", _world.Role, $"--db_password={_world.Password}",
            "-D", _world.DataDir, "--stop-after-init"], new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin", ["HOME"] = _world.Root });

        Assert.True(code == 0, run.Output);
        Assert.Contains(run.Log, l => l.EndsWith($" INFO ? odoo: database: {_world.Role}@127.0.0.1:{_world.PgPort} ", StringComparison.Ordinal));
        Assert.True(Directory.Exists(Path.Combine(_world.DataDir, "filestore", db)));
        Assert.False(Directory.Exists(Path.Combine(_world.Root, "not-this-one")));
    }

    [Fact]
    public async Task An_empty_database_is_initialised_on_first_start_over_the_unix_socket()
    {
        var empty = (await cluster.CreateEmptyDatabaseAsync("standin")).Database!;
        await using (var conn = await _world.SuperConnectAsync("postgres"))
            await Dapper.SqlMapper.ExecuteAsync(conn, $"alter database {empty} owner to {_world.Role}");

        var (code, run) = await _world.RunAsync(["-d", empty, "-D", _world.DataDir, "--stop-after-init"], _world.Env(overSocket: true));

        Assert.True(code == 0, run.Output);
        Assert.Contains(run.Log, l => l.EndsWith($" odoo: database: {_world.Role}@{_world.SocketDir}:{_world.PgPort} ", StringComparison.Ordinal));
        Assert.Contains(run.Log, l => l.EndsWith($" INFO {empty} odoo.modules.loading: init db ", StringComparison.Ordinal));
        Assert.Equal(["base", "web"], await _world.QueryAsync<string>(empty, "select name from ir_module_module where state = 'installed' order by name"));
    }

    [Fact]
    public async Task A_role_that_may_not_create_databases_fails_with_a_critical_line()
    {
        var role = $"nocreate_{Guid.NewGuid():N}"[..20];
        await using (var conn = await _world.SuperConnectAsync("postgres"))
            await Dapper.SqlMapper.ExecuteAsync(conn, $"create role {role} login password 'pw'; grant connect on database postgres to {role}");
        var env = _world.Env();
        env["PGUSER"] = role;
        env["PGPASSWORD"] = "pw";
        var db = StandInWorld.NewDatabase();

        var (code, run) = await _world.RunAsync(["-d", db, "-D", _world.DataDir, "-i", "base", "--stop-after-init"], env);

        Assert.Equal(1, code);
        Assert.Contains(run.Log, l => OdooStandIn.LogLine.IsMatch(l) && l.Contains($" CRITICAL {db} odoo.service.server: Failed to initialize database `{db}`.", StringComparison.Ordinal));
        Assert.Contains("psycopg2.errors.InsufficientPrivilege: permission denied to create database", run.Log);
        Assert.False(await _world.DatabaseExistsAsync(db));
    }

    [Fact]
    public async Task Every_log_line_has_odoos_format()
    {
        var (code, run) = await _world.RunAsync(["-d", StandInWorld.NewDatabase(), "-D", _world.DataDir, "-i", "nope", "--stop-after-init"]);

        Assert.True(code == 0, run.Output);
        // The one line that is not a log record is Odoo's own warning on stderr when run as root (as the tests are).
        var records = run.Log.Where(l => !l.StartsWith("Running as user 'root'", StringComparison.Ordinal)).ToList();
        Assert.All(records, l => Assert.Matches(OdooStandIn.LogLine, l));
        var first = OdooStandIn.LogLine.Match(records[0]);
        Assert.Equal(run.Pid.ToString(), first.Groups["pid"].Value);
        Assert.Equal("? odoo: Odoo version 19.0 ", $"{first.Groups["db"]} {first.Groups["logger"]}: {first.Groups["message"]}");
        // UTC, as Odoo sets TZ=UTC for itself.
        Assert.InRange(DateTime.ParseExact(first.Groups["date"].Value, "yyyy-MM-dd HH:mm:ss,fff", null), DateTime.UtcNow.AddMinutes(-5), DateTime.UtcNow.AddMinutes(1));
        Assert.Contains(records, l => OdooStandIn.LogLine.Match(l).Groups["level"].Value == "WARNING");
    }

    [Fact]
    public async Task Neutralize_turns_off_mail_servers_and_every_cron_but_the_autovacuum()
    {
        var db = StandInWorld.NewDatabase();
        var (code, run) = await _world.RunAsync(["-d", db, "-D", _world.DataDir, "--stop-after-init"]);
        Assert.True(code == 0, run.Output);

        (code, run) = await _world.RunAsync(["neutralize", "-d", db]);

        Assert.True(code == 0, run.Output);
        Assert.Contains(run.Log, l => l.EndsWith($" INFO {db} odoo.modules.neutralize: Neutralization finished ", StringComparison.Ordinal));
        Assert.Equal(["Base: Auto-vacuum internal data"], await _world.QueryAsync<string>(db, "select name from ir_cron where active"));
        Assert.True((await _world.QueryAsync<int>(db, "select count(*) from ir_cron where not active"))[0] >= 2);
        // As Odoo: the real servers are off, and a dummy one catches what would fall back to --smtp.
        Assert.Equal(["invalid"], await _world.QueryAsync<string>(db, "select smtp_host from ir_mail_server where active"));
        Assert.Equal(["true"], await _world.QueryAsync<string>(db, "select value from ir_config_parameter where key = 'database.is_neutralized'"));

        (code, run) = await _world.RunAsync(["neutralize"]);
        Assert.Equal(1, code);
        Assert.Contains("Neutralize command needs a database name", run.Output);
    }

    [Fact]
    public async Task A_failing_update_logs_odoos_registry_error_exits_1_and_leaves_the_database_unchanged()
    {
        _world.AddModule("shop", "1.0");
        var db = StandInWorld.NewDatabase();
        string[] args = ["-d", db, "--addons-path", _world.Addons, "-D", _world.DataDir, "--stop-after-init"];
        var (code, run) = await _world.RunAsync([.. args, "-i", "shop"]);
        Assert.True(code == 0, run.Output);
        var before = await Snapshot(db);

        // Told by the release's standin.json (its working directory), then by the environment.
        _world.AddModule("shop", "2.0");
        _world.AddModule("shop_extra", "1.0");
        var control = Path.Combine(_world.Release, "standin.json");
        await File.WriteAllTextAsync(control, """{"STANDIN_FAIL_UPDATE": true}""");
        (code, run) = await _world.RunAsync([.. args, "-u", "shop"]);
        Assert.Equal(1, code);
        Assert.Contains(run.Log, l => l.EndsWith($" ERROR {db} odoo.modules.registry: Failed to load registry ", StringComparison.Ordinal));
        Assert.Contains("Traceback (most recent call last):", run.Log);
        Assert.Contains(run.Log, l => l.Contains($" CRITICAL {db} odoo.service.server: Failed to initialize database `{db}`.", StringComparison.Ordinal));
        Assert.Equal(before, await Snapshot(db));
        File.Delete(control);

        var env = _world.Env();
        env["STANDIN_FAIL_UPDATE"] = "1";
        (code, run) = await _world.RunAsync([.. args, "-i", "shop_extra"], env);
        Assert.Equal(1, code);
        Assert.Equal(before, await Snapshot(db));

        (code, run) = await _world.RunAsync([.. args, "-u", "shop"]);
        Assert.True(code == 0, run.Output);
        Assert.NotEqual(before, await Snapshot(db));
    }

    async Task<string> Snapshot(string db)
    {
        var modules = await _world.QueryAsync<string>(db, "select concat_ws(' ', name, state, latest_version) from ir_module_module order by name");
        var attachments = await _world.QueryAsync<string>(db, "select concat_ws(' ', name, store_fname) from ir_attachment order by id");
        var files = Directory.EnumerateFiles(Path.Combine(_world.DataDir, "filestore", db), "*", SearchOption.AllDirectories).Order();
        return string.Join("\n", modules.Concat(attachments).Concat(files));
    }
}
