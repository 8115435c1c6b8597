using Dapper;
using Npgsql;
using OdooOps.Runners.Agent.Backups;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Runners.Backups;

/// <summary>
/// A staging or development copy of production must not mail customers, run production's jobs, take payments or
/// ship for real, or call itself production's URL. Before Odoo 16 OdooOps' own SQL does it; from 16 odoo-bin
/// neutralize does and OdooOps sets the URL; the check after either catches a database that was not neutralised.
/// </summary>
public sealed class NeutralizerTests(PostgresCluster cluster) : IAsyncLifetime
{
    const string Url = "https://staging.shop.example.com";
    BackupWorld _world = null!;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _world = await BackupWorld.CreateAsync(cluster);
    public ValueTask DisposeAsync() => _world.DisposeAsync();

    async Task<List<T>> QueryAsync<T>(string database, string sql)
    {
        await using var conn = await _world.SuperConnectAsync(database);
        return [.. await conn.QueryAsync<T>(sql)];
    }

    [Fact]
    public async Task An_odoo_15_database_is_neutralised_by_odooops_sql_and_then_passes_the_check()
    {
        var project = Guid.NewGuid();
        var db = await _world.OdooDatabaseAsync(project, _world.Folder("data"), version: "15.0");
        // Odoo 15 has no neutralize command: OdooOps' SQL is the only way.
        Assert.False(Neutralizer.OdooNeutralizes("15.0"));
        var (code, output) = await _world.RunOdooAsync(["neutralize", "-d", db.DatabaseName], _world.OdooEnv(project, version: "15.0"));
        Assert.Equal(1, code);
        Assert.Contains("Unknown command 'neutralize'", output);

        var before = await _world.Neutralizer.CheckAsync(project, false, db.DatabaseName, Url, Ct);
        Assert.False(before.Passed);
        Assert.Equal(["outgoing_mail", "crons", "payment_providers", "delivery_carriers", "web_base_url", "neutralized_flag"],
            before.Checks.Where(c => !c.Passed).Select(c => c.Name));

        var report = await _world.Neutralizer.NeutralizeAsync(project, false, db.DatabaseName, "15.0", Url, Ct);

        Assert.True(report.Passed, report.Failures);
        Assert.Equal(
        [
            ("outgoing mail servers deactivated", 1L), ("catch-all mail server added (invalid:1025)", 1L),
            ("scheduled actions deactivated (the auto-vacuum kept)", 3L), ("payment_acquirer: providers disabled", 1L),
            ("delivery carriers put in test mode", 1L), ("database.is_neutralized set", 1L), ($"web.base.url set to {Url}", 1L),
        ], report.Changes.Select(c => (c.Item, c.Count)));
        Assert.Equal(["Base: Auto-vacuum internal data"], await QueryAsync<string>(db.DatabaseName, "select name from ir_cron where active"));
        Assert.Equal(["invalid"], await QueryAsync<string>(db.DatabaseName, "select smtp_host from ir_mail_server where active"));
        Assert.Equal(["disabled", "test"], await QueryAsync<string>(db.DatabaseName, "select state from payment_acquirer order by state"));
        Assert.Equal([Url, "True"], await QueryAsync<string>(db.DatabaseName,
            "select value from ir_config_parameter where key in ('web.base.url', 'web.base.url.freeze') order by key"));
        Assert.Contains(report.Lines(), l => l == "Neutralisation check crons: passed — no active scheduled action but the auto-vacuum");

        // Once more changes nothing (no second catch-all) and still passes.
        var again = await _world.Neutralizer.NeutralizeAsync(project, false, db.DatabaseName, "15.0", Url, Ct);
        Assert.True(again.Passed, again.Failures);
        Assert.DoesNotContain(again.Changes, c => c.Item.StartsWith("catch-all"));
        Assert.Equal(1, (await QueryAsync<int>(db.DatabaseName, "select count(*)::int from ir_mail_server where active")).Single());
    }

    [Fact]
    public async Task An_odoo_17_database_is_checked_after_odoo_bin_neutralize_and_the_check_catches_one_that_was_not()
    {
        var project = Guid.NewGuid();
        var db = await _world.OdooDatabaseAsync(project, _world.Folder("data"), version: "17.0");
        Assert.True(Neutralizer.OdooNeutralizes("17.0"));
        Assert.True(Neutralizer.OdooNeutralizes("saas~17.2"));

        // Not neutralised by Odoo: setting the URL alone does not pass.
        var skipped = await _world.Neutralizer.NeutralizeAsync(project, false, db.DatabaseName, "17.0", Url, Ct);
        Assert.False(skipped.Passed);
        Assert.Equal([$"web.base.url set to {Url}"], skipped.Changes.Select(c => c.Item));
        Assert.Equal(["outgoing_mail", "crons", "payment_providers", "delivery_carriers", "neutralized_flag"],
            skipped.Checks.Where(c => !c.Passed).Select(c => c.Name));
        Assert.Contains("outgoing_mail: 1 active outgoing mail server(s)", skipped.Failures);

        var (code, output) = await _world.RunOdooAsync(["neutralize", "-d", db.DatabaseName], _world.OdooEnv(project, version: "17.0"));
        Assert.True(code == 0, output);
        var report = await _world.Neutralizer.NeutralizeAsync(project, false, db.DatabaseName, "17.0", Url, Ct);

        Assert.True(report.Passed, report.Failures);
        Assert.Equal([$"web.base.url set to {Url}"], report.Changes.Select(c => c.Item));
        Assert.True((await _world.Neutralizer.CheckAsync(project, false, db.DatabaseName, Url, Ct)).Passed);
        // The check is against the URL it is given.
        var other = await _world.Neutralizer.CheckAsync(project, false, db.DatabaseName, "https://other.example.com", Ct);
        Assert.Equal($"web_base_url: web.base.url is {Url}, not https://other.example.com", other.Failures);
    }

    [Fact]
    public async Task An_older_schema_is_neutralised_with_what_it_has_and_keeps_its_auto_vacuum_by_xml_id()
    {
        var project = Guid.NewGuid();
        var db = BackupWorld.NewDatabase("oo-old");
        await _world.Server.EnsureDatabaseAsync(project, false, db, Ct);
        // Odoo 11-13's shapes: cron names in cron_name (here translated), the auto-vacuum known by its XML id, no
        // smtp_authentication, payment acquirers with an environment, incoming mail servers, no delivery carriers.
        await using (var conn = new NpgsqlConnection(_world.Server.ProjectConnection(project, false, db).ConnectionString))
        {
            await conn.OpenAsync(Ct);
            await conn.ExecuteAsync("""
                create table ir_config_parameter (id serial primary key, key varchar not null unique, value text not null);
                create table ir_model_data (id serial primary key, module varchar, name varchar, model varchar, res_id int);
                create table ir_cron (id serial primary key, cron_name varchar, active boolean);
                create table ir_mail_server (id serial primary key, name varchar not null, smtp_host varchar not null,
                                             smtp_port int not null, smtp_encryption varchar not null, active boolean);
                create table payment_acquirer (id serial primary key, name varchar, environment varchar);
                create table fetchmail_server (id serial primary key, name varchar, active boolean);
                insert into ir_cron (cron_name, active) values ('Base : nettoyage automatique', true), ('Facturation', true), ('Courriel', true);
                insert into ir_model_data (module, name, model, res_id) values ('base', 'autovacuum_job', 'ir.cron', 1);
                insert into ir_mail_server (name, smtp_host, smtp_port, smtp_encryption, active) values ('Sortant', 'smtp.example.com', 25, 'none', true);
                insert into payment_acquirer (name, environment) values ('Ogone', 'prod'), ('Virement', 'test');
                insert into fetchmail_server (name, active) values ('Entrant', true);
                insert into ir_config_parameter (key, value) values ('web.base.url', 'https://shop.example.com');
                """);
        }

        var report = await _world.Neutralizer.NeutralizeAsync(project, false, db, "12.0", Url, Ct);

        Assert.True(report.Passed, report.Failures);
        Assert.Contains(("incoming mail servers deactivated", 1L), report.Changes.Select(c => (c.Item, c.Count)));
        Assert.Contains(("scheduled actions deactivated (the auto-vacuum kept)", 2L), report.Changes.Select(c => (c.Item, c.Count)));
        Assert.Contains(("payment_acquirer: providers put in test mode", 1L), report.Changes.Select(c => (c.Item, c.Count)));
        Assert.Equal(["Base : nettoyage automatique"], await QueryAsync<string>(db, "select cron_name from ir_cron where active"));
        Assert.Equal(["invalid"], await QueryAsync<string>(db, "select smtp_host from ir_mail_server where active"));
        Assert.Equal("no delivery_carrier table", report.Checks.Single(c => c.Name == "delivery_carriers").Detail);
        await _world.Server.DropDatabaseAsync(db, Ct);
    }
}
