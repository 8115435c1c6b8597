using System.Security.Cryptography;
using Dapper;
using Npgsql;

namespace OdooOps.Seed;

/// <summary>
/// The demo's project settings: environment variables on every stage of Production ERP (plain ones and secrets, changed
/// by Dana Developer and the admin) and its ingest tokens (one in use, one revoked). Secrets go in as an older version
/// stored them, in plain text: `serve` seals them with its secrets key as it starts (EnvVars/EnvSecretSeal), before anyone
/// can read them; the demo's values are made up.
/// </summary>
internal static class DemoProjectSettings
{
    public static async Task SeedAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid orgId)
    {
        var project = await conn.ExecuteScalarAsync<Guid>("select id from ops.projects where org_id = @orgId and slug = 'prod-erp'", new { orgId }, tx);
        var (admin, developer) = await conn.QuerySingleAsync<(Guid, Guid)>("""
            select (select id from registry.users where email = 'admin@demo.odooops.dev'),
                   (select id from registry.users where email = 'developer@demo.odooops.dev')
            """, transaction: tx);
        // The stamp trigger names the acting user: act as each of them in turn, then as nobody again.
        foreach (var (user, rows) in new[] { (developer, DeveloperVariables), (admin, AdminVariables) })
        {
            await conn.ExecuteAsync("select set_config('ops.user_id', @user, true)", new { user = user.ToString() }, tx);
            await conn.ExecuteAsync("""
                insert into ops.env_vars (project_id, stage, name, value, is_secret)
                select @project, v.stage, v.name, v.value, v.secret from unnest(@stages, @names, @values, @secrets) as v(stage, name, value, secret)
                """, new
            {
                project, stages = rows.Select(r => r.Stage).ToArray(), names = rows.Select(r => r.Name).ToArray(),
                values = rows.Select(r => r.Value).ToArray(), secrets = rows.Select(r => r.Secret).ToArray(),
            }, tx);
        }
        await conn.ExecuteAsync("select set_config('ops.user_id', '', true)", transaction: tx);
        await conn.ExecuteAsync("""
            insert into ops.ingest_tokens (project_id, name, token_prefix, token_hash, created_by, created_at, last_used_at, revoked_at) values
                (@project, 'prometheus exporter', 'oo_ing_Xk3q', @live, @admin, now() - interval '12 days', now() - interval '2 minutes', null),
                (@project, 'old laptop agent', 'oo_ing_7Hv2', @revoked, @admin, now() - interval '60 days', now() - interval '31 days', now() - interval '30 days');
            """, new { project, admin, live = RandomNumberGenerator.GetBytes(32), revoked = RandomNumberGenerator.GetBytes(32) }, tx);
    }

    sealed record Variable(string Stage, string Name, string Value, bool Secret);

    static readonly Variable[] DeveloperVariables =
    [
        new("development", "ODOO_LOG_LEVEL", "debug", false),
        new("development", "MAIL_CATCHER_URL", "http://mailpit.dev.internal:8025", false),
        new("staging", "SMTP_HOST", "smtp.staging.example.com", false),
        new("staging", "PAYMENT_MODE", "test", false),
        new("staging", "SMTP_PASSWORD", "demo-staging-smtp-password", true),
    ];

    static readonly Variable[] AdminVariables =
    [
        new("production", "SMTP_HOST", "smtp.example.com", false),
        new("production", "SMTP_PASSWORD", "demo-production-smtp-password", true),
        new("production", "STRIPE_SECRET_KEY", "sk_live_demo_not_a_real_key_0000", true),
        new("production", "SENTRY_ENVIRONMENT", "production", false),
    ];
}
