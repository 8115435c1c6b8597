using Dapper;
using Npgsql;
using OdooOps.Database;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Database;

/// <summary>
/// Two OdooOps databases on one cluster (staging and production on one managed server): the login roles of one can
/// neither connect to the other nor, were they let in, read anything there; each works on its own. A database made by
/// the previous version (cluster-wide ops_app / ops_service) upgrades, and the old groups go when nothing uses them.
/// The tests of this class run one at a time: only they make the cluster-wide roles of older versions.
/// </summary>
public sealed class RequestRolesTests(PostgresCluster cluster)
{
    [Fact]
    public void Group_names_are_plain_identifiers_named_after_the_database()
    {
        Assert.Equal(new RequestRoles.Names("odooops_ops_app", "odooops_ops_service"), RequestRoles.For("odooops"));
        foreach (var database in new[] { "Odoo Ops-Prod.2024", "odoo ops-prod.2024", "2024prod", "prod_é", "x\"; drop role postgres; --", new string('a', 63), "Ünïcødé" })
        {
            var names = RequestRoles.For(database);
            foreach (var name in new[] { names.App, names.Service })
            {
                Assert.Matches("^[a-z_][a-z0-9_]*$", name);
                Assert.True(System.Text.Encoding.UTF8.GetByteCount(name) <= 63, name);
            }
        }
        Assert.NotEqual(RequestRoles.For("Odoo Ops-Prod.2024"), RequestRoles.For("odoo ops-prod.2024"));
        Assert.NotEqual(RequestRoles.For(new string('a', 63)), RequestRoles.For(new string('a', 62)));
    }

    [Fact]
    public async Task The_logins_of_one_database_cannot_connect_to_another_nor_read_it_once_let_in()
    {
        var staging = await cluster.CreateDatabaseAsync("staging");
        // An odd name, migrated from empty: its groups are the hashed form.
        var production = new NpgsqlConnectionStringBuilder(cluster.ConnectionString("postgres").ConnectionString) { Database = "Odoo Ops-Prod.2024" };
        await using (var postgres = await Accounts.OpenAsync(cluster.ConnectionString("postgres")))
            await postgres.ExecuteAsync("""drop database if exists "Odoo Ops-Prod.2024"; create database "Odoo Ops-Prod.2024" """);
        await new Migrator(production.ConnectionString).MigrateAsync();

        var stagingLogins = await LoginRoles.EnsureAsync(staging);
        var productionLogins = await LoginRoles.EnsureAsync(production);
        await using (var owner = await Accounts.OpenAsync(production))
            await owner.ExecuteAsync("insert into ops_private.data_protection_keys (friendly_name, xml) values ('k', '<key/>')");

        foreach (var db in new[] { staging, production })
            Assert.All(await DbVerifier.RunAsync(db.ConnectionString), c => Assert.True(c.Passed, $"{db.Database}: {c.Name}: {c.Detail}"));

        // Each works on its own.
        foreach (var logins in new[] { stagingLogins, productionLogins })
        {
            await using var app = await Accounts.OpenAsync(Unpooled(logins.App));
            Assert.Equal(0L, await app.ExecuteScalarAsync<long>("select count(*) from ops.list_projects()"));
            await using var service = await Accounts.OpenAsync(Unpooled(logins.Service));
            Assert.True(await service.ExecuteScalarAsync<long>("select count(*) from ops_private.data_protection_keys") >= 0);
        }

        // Neither gets into the other.
        foreach (var (from, into) in new[] { (stagingLogins, production.Database!), (productionLogins, staging.Database!) })
            foreach (var login in new[] { from.App, from.Service })
            {
                var e = await Assert.ThrowsAsync<PostgresException>(() => Accounts.OpenAsync(Unpooled(login, into)));
                Assert.True(e.SqlState == PostgresErrorCodes.InsufficientPrivilege, $"{login.Username} into {into}: {e.SqlState} {e.MessageText}");
            }

        // Were CONNECT given back to everyone, staging's logins still read nothing of production's.
        await using (var owner = await Accounts.OpenAsync(production))
            await owner.ExecuteAsync("""grant connect on database "Odoo Ops-Prod.2024" to public""");
        try
        {
            await using var app = await Accounts.OpenAsync(Unpooled(stagingLogins.App, production.Database));
            await using var service = await Accounts.OpenAsync(Unpooled(stagingLogins.Service, production.Database));
            foreach (var (conn, sql) in new[]
                     {
                         (app, "select count(*) from registry.users"),
                         (app, "select count(*) from ops.list_projects()"),
                         (service, "select count(*) from ops_private.data_protection_keys"),
                         (service, "select count(*) from ops_private.project_webhooks"),
                     })
            {
                var e = await Assert.ThrowsAsync<PostgresException>(() => conn.ExecuteScalarAsync(sql));
                Assert.True(e.SqlState == PostgresErrorCodes.InsufficientPrivilege, $"{sql}: {e.SqlState} {e.MessageText}");
            }
        }
        finally
        {
            await using var owner = await Accounts.OpenAsync(production);
            await owner.ExecuteAsync("""revoke connect on database "Odoo Ops-Prod.2024" from public""");
        }
    }

    [Fact]
    public async Task A_copy_of_a_database_gets_groups_of_its_own_and_forgets_the_originals_logins()
    {
        var original = await cluster.CreateDatabaseAsync("original");
        var originalLogins = await LoginRoles.EnsureAsync(original);
        var copy = new NpgsqlConnectionStringBuilder(original.ConnectionString) { Database = original.Database + "_copy" };
        await using (var postgres = await Accounts.OpenAsync(cluster.ConnectionString("postgres")))
            await postgres.ExecuteAsync($"create database {copy.Database} template {original.Database}");

        var copyLogins = await LoginRoles.EnsureAsync(copy);

        await using var owner = await Accounts.OpenAsync(copy);
        // Nothing in the copy names the original's groups any more, and the original's login passwords are gone from it.
        var originalGroups = RequestRoles.For(original.Database!);
        Assert.False(await owner.ExecuteScalarAsync<bool>("""
            select exists (select 1 from pg_shdepend d join pg_roles r on r.oid = d.refobjid
                            where d.dbid = (select oid from pg_database where datname = current_database()) and r.rolname in (@App, @Service))
            """, originalGroups));
        Assert.Equal(LoginRoles.NamesFor(copy.Database!).Order(), await owner.QueryAsync<string>("select role_name from ops_private.login_roles order by 1"));
        Assert.All(await DbVerifier.RunAsync(copy.ConnectionString), c => Assert.True(c.Passed, $"copy: {c.Name}: {c.Detail}"));
        Assert.All(await DbVerifier.RunAsync(original.ConnectionString), c => Assert.True(c.Passed, $"original: {c.Name}: {c.Detail}"));

        await using (var app = await Accounts.OpenAsync(Unpooled(copyLogins.App)))
            Assert.Equal(0L, await app.ExecuteScalarAsync<long>("select count(*) from ops.list_projects()"));
        var e = await Assert.ThrowsAsync<PostgresException>(() => Accounts.OpenAsync(Unpooled(originalLogins.App, copy.Database)));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, e.SqlState);
    }

    [Fact]
    public async Task A_database_of_the_previous_version_moves_to_its_own_groups_and_the_shared_ones_go_with_the_last()
    {
        var first = await LegacyDatabaseAsync("legacyone");
        var second = await LegacyDatabaseAsync("legacytwo");
        // The attack on the old layout: the first database's service login reads the second's data-protection keys.
        await using (var service = await Accounts.OpenAsync(Unpooled(first.Service, second.Owner.Database)))
            Assert.Equal(1L, await service.ExecuteScalarAsync<long>("select count(*) from ops_private.data_protection_keys"));

        await new Migrator(first.Owner.ConnectionString).MigrateAsync();
        var firstLogins = await LoginRoles.EnsureAsync(first.Owner);
        Assert.Equal(first.App.Username, firstLogins.App.Username); // the same logins, passwords kept: running replicas stay in
        Assert.All(await DbVerifier.RunAsync(first.Owner.ConnectionString), c => Assert.True(c.Passed, $"{c.Name}: {c.Detail}"));
        await using (var owner = await Accounts.OpenAsync(first.Owner))
        {
            Assert.Equal(0L, await owner.ExecuteScalarAsync<long>(SharedDependencies, new { roles = Legacy }));
            Assert.Equal(["ops_app", "ops_service"], await owner.QueryAsync<string>("select rolname from pg_roles where rolname = any (@roles) order by 1", new { roles = Legacy }));
            Assert.Empty(await owner.QueryAsync<string>(MembershipsOf, new { roles = Legacy, logins = new[] { first.App.Username, first.Service.Username } }));
        }
        await using (var app = await Accounts.OpenAsync(Unpooled(firstLogins.App)))
            Assert.Equal(0L, await app.ExecuteScalarAsync<long>("select count(*) from ops.list_projects()"));
        await using (var service = await Accounts.OpenAsync(Unpooled(firstLogins.Service)))
            Assert.Equal(1L, await service.ExecuteScalarAsync<long>("select count(*) from ops_private.data_protection_keys"));

        // The second, not upgraded yet, still works with the shared groups, and the first's logins are out of them.
        await using (var service = await Accounts.OpenAsync(Unpooled(second.Service)))
            Assert.Equal(1L, await service.ExecuteScalarAsync<long>("select count(*) from ops_private.data_protection_keys"));
        await using (var service = await Accounts.OpenAsync(Unpooled(first.Service, second.Owner.Database)))
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, (await Assert.ThrowsAsync<PostgresException>(
                () => service.ExecuteScalarAsync("select count(*) from ops_private.data_protection_keys"))).SqlState);

        await new Migrator(second.Owner.ConnectionString).MigrateAsync();
        var secondLogins = await LoginRoles.EnsureAsync(second.Owner);
        Assert.All(await DbVerifier.RunAsync(second.Owner.ConnectionString), c => Assert.True(c.Passed, $"{c.Name}: {c.Detail}"));
        await using (var owner = await Accounts.OpenAsync(second.Owner))
            Assert.Empty(await owner.QueryAsync<string>("select rolname from pg_roles where rolname = any (@roles)", new { roles = Legacy }));
        await using (var service = await Accounts.OpenAsync(Unpooled(secondLogins.Service)))
            Assert.Equal(1L, await service.ExecuteScalarAsync<long>("select count(*) from ops_private.data_protection_keys"));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, (await Assert.ThrowsAsync<PostgresException>(
            () => Accounts.OpenAsync(Unpooled(firstLogins.Service, second.Owner.Database)))).SqlState);
    }

    static readonly string[] Legacy = [RequestRoles.Logical.App, RequestRoles.Logical.Service];

    const string SharedDependencies = """
        select count(*) from pg_shdepend d join pg_roles r on r.oid = d.refobjid
         where d.dbid = (select oid from pg_database where datname = current_database()) and r.rolname = any (@roles)
        """;

    const string MembershipsOf = """
        select g.rolname || ' > ' || m.rolname from pg_auth_members a join pg_roles g on g.oid = a.roleid join pg_roles m on m.oid = a.member
         where g.rolname = any (@roles) and m.rolname = any (@logins)
        """;

    sealed record LegacyDatabase(NpgsqlConnectionStringBuilder Owner, NpgsqlConnectionStringBuilder App, NpgsqlConnectionStringBuilder Service);

    /// <summary>
    /// A database with the previous version's roles: migrated with the files granting to the cluster-wide
    /// ops_app / ops_service, and its two login roles in those groups (what its LoginRoles did), holding a key.
    /// </summary>
    async Task<LegacyDatabase> LegacyDatabaseAsync(string prefix)
    {
        var owner = await cluster.CreateEmptyDatabaseAsync(prefix);
        // Today's tables and files with the roles of the previous version (cluster-wide ops_app / ops_service): the files
        // of today need today's tables, and the role layout is what the upgrade changes.
        await new Migrator(owner.ConnectionString) { FixedRoles = RequestRoles.Logical }.MigrateAsync();
        var names = LoginRoles.NamesFor(owner.Database!);
        await using var conn = await Accounts.OpenAsync(owner);
        foreach (var (login, group) in new[] { (names[0], "ops_app"), (names[1], "ops_service") })
            await conn.ExecuteAsync($"""
                create role {login} login nobypassrls password 'legacy-{login}';
                grant {group} to {login};
                insert into ops_private.login_roles (role_name, password) values ('{login}', 'legacy-{login}');
                """);
        await conn.ExecuteAsync("insert into ops_private.data_protection_keys (friendly_name, xml) values ('k', '<key/>')");
        NpgsqlConnectionStringBuilder Login(string name) => new(owner.ConnectionString) { Username = name, Password = $"legacy-{name}", Pooling = false };
        return new(owner, Login(names[0]), Login(names[1]));
    }

    static NpgsqlConnectionStringBuilder Unpooled(NpgsqlConnectionStringBuilder login, string? database = null) =>
        new(login.ConnectionString) { Pooling = false, Database = database ?? login.Database };
}
