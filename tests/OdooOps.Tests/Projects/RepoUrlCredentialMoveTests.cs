using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Projects;
using OdooOps.Runners.Agent;
using OdooOps.Tests.Infrastructure;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Tests.Projects;

/// <summary>
/// An installation whose projects kept credentials in repo_url is upgraded: the migration strips them from every read
/// path (the projects, their audit rows, build logs) at once and sets them aside owner-only; `serve` encrypts them into
/// repository credentials as it starts (once: a second start finds nothing to do), and builds fetch with them.
/// </summary>
public sealed class RepoUrlCredentialMoveTests(PostgresCluster cluster)
{
    const string Password = "s3cr3t-pass-123", Token = "ghp_T0kenInTheUrl0123456789";

    [Fact]
    public async Task Credentials_in_repo_urls_leave_them_at_the_upgrade_and_become_encrypted_repository_credentials()
    {
        var owner = await cluster.CreateEmptyDatabaseAsync("urlcreds");
        await new Migrator(owner.ConnectionString).MigrateAsync(
            scripts: [.. Migrator.EmbeddedScripts().Where(s => string.CompareOrdinal(s.Name, "0021") < 0)], sqlObjects: []);
        Guid org, withPassword, withToken, sshUser;
        await using (var conn = await Accounts.OpenAsync(owner))
        {
            org = await conn.ExecuteScalarAsync<Guid>("insert into registry.orgs (name, slug) values ('Old', 'old') returning id");
            withPassword = await ProjectAsync(conn, org, "pw", $"https://deploy:{Password}@git.example.com/acme/erp.git");
            withToken = await ProjectAsync(conn, org, "tok", $"https://{Token}@github.com/acme/shop.git");
            sshUser = await ProjectAsync(conn, org, "ssh", "ssh://git@git.example.com/acme/fsm.git");
            await conn.ExecuteAsync("""
                insert into ops.audit_log (org_id, project_id, actor, action, target_type, target_id, before, after)
                values (@org, @withPassword, 'system', 'project.update', 'project', @withPassword::text,
                        jsonb_build_object('repo_url', 'https://deploy:' || @Password || '@git.example.com/old.git'),
                        jsonb_build_object('repo_url', 'https://deploy:' || @Password || '@git.example.com/acme/erp.git', 'name', 'pw'));
                with b as (insert into ops.builds (project_id, branch_id, status, trigger)
                           select project_id, id, 'failed', 'push' from ops.branches where project_id = @withPassword returning id, project_id)
                insert into ops.build_logs (build_id, project_id, seq, stream, line)
                select id, project_id, 0, 'stderr', 'fatal: unable to access ''https://deploy:' || @Password || '@git.example.com/acme/erp.git/''' from b;
                """, new { org, withPassword, Password });
        }

        await new Migrator(owner.ConnectionString).MigrateAsync();

        await using (var conn = await Accounts.OpenAsync(owner))
        {
            Assert.Equal(["https://git.example.com/acme/erp.git", "ssh://git@git.example.com/acme/fsm.git", "https://github.com/acme/shop.git"],
                (await conn.QueryAsync<string>("select repo_url from ops.projects where org_id = @org order by slug", new { org })).ToArray()); // pw, ssh, tok
            var everything = await conn.ExecuteScalarAsync<string>("""
                select (select string_agg(coalesce(before::text, '') || coalesce(after::text, ''), '') from ops.audit_log)
                    || (select string_agg(line, '') from ops.build_logs)
                """);
            Assert.DoesNotContain(Password, everything);
            Assert.Contains("https://git.example.com/acme/erp.git", everything);
            Assert.Equal(2, await conn.ExecuteScalarAsync<int>("select count(*) from ops_private.repo_url_credentials"));
        }

        await using var server = await StartAsync(owner);
        await using (var conn = await Accounts.OpenAsync(owner))
        {
            Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from ops_private.repo_url_credentials"));
            var stored = (await conn.QueryAsync<(Guid Project, string Kind, string? Username, string Secret)>(
                "select project_id, kind, username, secret from ops_private.repo_credentials order by username nulls last")).ToList();
            Assert.Equal([(withPassword, "token", "deploy"), (withToken, "token", null)], stored.Select(s => (s.Project, s.Kind, s.Username)).ToArray());
            Assert.All(stored, s => Assert.DoesNotContain("s3cr3t", s.Secret));
            Assert.Equal(2, await conn.ExecuteScalarAsync<int>(
                "select count(*) from ops.audit_log where action = 'repo_credential.set' and actor = 'system' and after->>'detail' = 'moved out of repo_url'"));
        }
        Assert.Equal(0, await server.Services.GetRequiredService<RepoUrlCredentialMove>().MoveAsync(default)); // done once

        // Builds fetch with them.
        await using (var conn = await Accounts.OpenAsync(owner))
        {
            await conn.ExecuteAsync("""
                insert into ops.builds (project_id, branch_id, trigger)
                select project_id, id, 'push' from ops.branches where project_id in (@withPassword, @withToken, @sshUser)
                """, new { withPassword, withToken, sshUser });
            var registration = AccessTokens.Create(RegistrationTokenPrefix);
            await conn.ExecuteAsync("insert into ops.runner_registration_tokens (org_id, token_hash) values (@org, @hash)", new { org, hash = AccessTokens.Hash(registration) });
            var url = new Uri(server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            using var runner = new DispatchClient(url, (await DispatchClient.RegisterAsync(url, new RegisterRequest(registration, "r", [], 3, "test"))).Token);
            var jobs = await runner.NextAsync(3, 5, default);
            Assert.Equal(new GitCredential("token", "deploy", Password), Assert.Single(jobs, j => j.ProjectId == withPassword).GitCredential);
            Assert.Equal(new GitCredential("token", null, Token), Assert.Single(jobs, j => j.ProjectId == withToken).GitCredential);
            Assert.Null(Assert.Single(jobs, j => j.ProjectId == sshUser).GitCredential);
        }
    }

    static Task<Guid> ProjectAsync(NpgsqlConnection conn, Guid org, string slug, string url) =>
        conn.ExecuteScalarAsync<Guid>("""
            with p as (insert into ops.projects (org_id, name, slug, repo_url) values (@org, @slug, @slug, @url) returning id),
                 b as (insert into ops.branches (project_id, name, stage, is_production) select id, 'main', 'production', true from p)
            select id from p
            """, new { org, slug, url });

    sealed class Server(WebApplication app, OpsDatabase database) : IAsyncDisposable
    {
        public IServiceProvider Services => app.Services;

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
            await database.DisposeAsync();
        }
    }

    static async Task<Server> StartAsync(NpgsqlConnectionStringBuilder owner)
    {
        var database = OpsDatabase.Create(await LoginRoles.EnsureAsync(owner));
        var app = TestHosts.Build(database, "http://127.0.0.1:0");
        await app.StartAsync();
        return new Server(app, database);
    }
}
