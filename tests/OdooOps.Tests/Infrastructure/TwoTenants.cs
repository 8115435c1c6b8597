using System.Security.Cryptography;
using Dapper;
using Npgsql;

namespace OdooOps.Tests.Infrastructure;

/// <summary>The roles a tenant's users hold; <see cref="ProjectMember"/> is only in project_members (as developer), not in the org.</summary>
public enum TenantRole { Owner, Admin, Developer, Tester, Viewer, ProjectMember }

/// <summary>
/// One tenant's row ids. Every <see cref="Guid"/> property is the id of a row this tenant owns, and
/// <see cref="AllIds"/> finds them by reflection, so an id added here is covered by the isolation tests at once.
/// </summary>
public sealed class Tenant(string key)
{
    public string Key { get; } = key;
    public Guid OrgId { get; } = Guid.NewGuid();
    public Guid OwnerId { get; } = Guid.NewGuid();
    public Guid AdminId { get; } = Guid.NewGuid();
    public Guid DeveloperId { get; } = Guid.NewGuid();
    public Guid TesterId { get; } = Guid.NewGuid();
    public Guid ViewerId { get; } = Guid.NewGuid();
    public Guid ProjectMemberId { get; } = Guid.NewGuid();
    public Guid ProjectId { get; } = Guid.NewGuid();
    public Guid ProductionBranchId { get; } = Guid.NewGuid();
    public Guid StagingBranchId { get; } = Guid.NewGuid();
    public Guid DevBranchId { get; } = Guid.NewGuid();
    public Guid SuccessBuildId { get; } = Guid.NewGuid();   // production, finished
    public Guid FailedBuildId { get; } = Guid.NewGuid();    // staging, finished
    public Guid RunningBuildId { get; } = Guid.NewGuid();   // development, leased by RunnerId
    public Guid QueuedBuildId { get; } = Guid.NewGuid();    // development, in run_queue
    public Guid OpenAdvisoryId { get; } = Guid.NewGuid();
    public Guid ResolvedAdvisoryId { get; } = Guid.NewGuid();
    public Guid ApiTokenId { get; } = Guid.NewGuid();       // the owner's
    public Guid IngestTokenId { get; } = Guid.NewGuid();
    public Guid RunnerId { get; } = Guid.NewGuid();         // org-scoped
    public Guid RunnerTokenId { get; } = Guid.NewGuid();    // org-scoped registration token
    public Guid DevEnvVarId { get; } = Guid.NewGuid();
    public Guid ProductionEnvVarId { get; } = Guid.NewGuid();
    public Guid DeploymentId { get; } = Guid.NewGuid();
    public Guid OrgInvitationId { get; } = Guid.NewGuid();      // to the org, for someone of no tenant
    public Guid ProjectInvitationId { get; } = Guid.NewGuid();  // to the project
    public Guid NotificationChannelId { get; } = Guid.NewGuid();
    public Guid NotificationEventId { get; } = Guid.NewGuid();
    public Guid NotificationDeliveryId { get; } = Guid.NewGuid();

    public byte[] ApiTokenHash { get; } = RandomNumberGenerator.GetBytes(32);
    public byte[] IngestTokenHash { get; } = RandomNumberGenerator.GetBytes(32);
    public long AuditLogId { get; internal set; }

    public Guid User(TenantRole role) => role switch
    {
        TenantRole.Owner => OwnerId,
        TenantRole.Admin => AdminId,
        TenantRole.Developer => DeveloperId,
        TenantRole.Tester => TesterId,
        TenantRole.Viewer => ViewerId,
        TenantRole.ProjectMember => ProjectMemberId,
        _ => throw new ArgumentOutOfRangeException(nameof(role)),
    };

    public IReadOnlyList<Guid> AllIds =>
        [.. typeof(Tenant).GetProperties().Where(p => p.PropertyType == typeof(Guid)).Select(p => (Guid)p.GetValue(this)!)];

    /// <summary>All ids as they appear in to_jsonb output (lower-case uuid text).</summary>
    public IReadOnlyList<string> IdStrings => [.. AllIds.Select(id => id.ToString())];

    public bool Owns(string json) => IdStrings.Any(json.Contains);
}

/// <summary>
/// Two symmetric tenants A and B (same project slug, same branch names: only ids tell them apart), built as the owner.
/// Each has rows in every tenant-scoped table of ops and registry. Plus rows that belong to no tenant:
/// a user with no memberships, a shared runner, a shared registration token and a job run.
/// </summary>
public sealed class TwoTenants
{
    /// <summary>Tables whose rows belong to no tenant (global bookkeeping).</summary>
    public static readonly IReadOnlySet<string> Untenanted = new HashSet<string> { "ops.job_runs" };

    public Tenant A { get; } = new("a");
    public Tenant B { get; } = new("b");
    public Guid OutsiderId { get; } = Guid.NewGuid();
    public Guid SharedRunnerId { get; } = Guid.NewGuid();
    public Guid SharedRunnerTokenId { get; } = Guid.NewGuid();
    public long JobRunId { get; private set; }

    public Tenant this[string key] => key == "a" ? A : B;

    public static async Task<TwoTenants> BuildAsync(NpgsqlConnection owner)
    {
        var t = new TwoTenants();
        await using var tx = await owner.BeginTransactionAsync();
        await owner.ExecuteAsync("select ops.ensure_metric_partitions((now() at time zone 'utc')::date - 1, 3)", transaction: tx);
        foreach (var tenant in new[] { t.A, t.B })
        {
            await owner.ExecuteAsync(TenantSql, tenant, tx);
            tenant.AuditLogId = await owner.ExecuteScalarAsync<long>("""
                insert into ops.audit_log (org_id, project_id, actor_user_id, action, target_type, target_id)
                values (@OrgId, @ProjectId, @OwnerId, 'project.create', 'project', @ProjectId::text) returning id
                """, tenant, tx);
        }
        await owner.ExecuteAsync("""
            insert into registry.users (id, email, display_name) values (@OutsiderId, 'outsider@tenants.test', 'Outsider');
            insert into ops.runners (id, org_id, name, labels, token_hash) values (@SharedRunnerId, null, 'shared', '{linux}', uuid_send(gen_random_uuid()));
            insert into ops.runner_registration_tokens (id, org_id, token_hash) values (@SharedRunnerTokenId, null, uuid_send(gen_random_uuid()));
            """, t, tx);
        t.JobRunId = await owner.ExecuteScalarAsync<long>(
            "insert into ops.job_runs (job, node, outcome) values ('advisory_scan', 'node-1', 'success') returning id", transaction: tx);
        await tx.CommitAsync();
        return t;
    }

    // Parameters are the Tenant's properties (Dapper binds the ones the text names).
    const string TenantSql = """
        insert into registry.orgs (id, name, slug) values (@OrgId, 'Tenant ' || @Key, 'tenant-' || @Key);
        insert into registry.users (id, email, display_name) values
            (@OwnerId, @Key || '-owner@tenants.test', 'Owner'),
            (@AdminId, @Key || '-admin@tenants.test', 'Admin'),
            (@DeveloperId, @Key || '-developer@tenants.test', 'Developer'),
            (@TesterId, @Key || '-tester@tenants.test', 'Tester'),
            (@ViewerId, @Key || '-viewer@tenants.test', 'Viewer'),
            (@ProjectMemberId, @Key || '-member@tenants.test', 'Project member');
        insert into registry.org_members (org_id, user_id, role) values
            (@OrgId, @OwnerId, 'owner'), (@OrgId, @AdminId, 'admin'), (@OrgId, @DeveloperId, 'developer'),
            (@OrgId, @TesterId, 'tester'), (@OrgId, @ViewerId, 'viewer');
        insert into ops.projects (id, org_id, name, slug, repo_url) values (@ProjectId, @OrgId, 'ERP', 'erp', 'https://git.example/erp.git');
        insert into ops.project_members (project_id, user_id, role) values (@ProjectId, @ProjectMemberId, 'developer');
        insert into ops.branches (id, project_id, name, stage, is_production) values
            (@ProductionBranchId, @ProjectId, 'main', 'production', true),
            (@StagingBranchId, @ProjectId, 'staging', 'staging', false),
            (@DevBranchId, @ProjectId, 'feature-x', 'development', false);
        insert into ops.runners (id, org_id, name, labels, token_hash) values (@RunnerId, @OrgId, 'runner-' || @Key, '{linux}', uuid_send(gen_random_uuid()));
        insert into ops.runner_registration_tokens (id, org_id, token_hash, created_by, expires_at)
            values (@RunnerTokenId, @OrgId, uuid_send(gen_random_uuid()), @OwnerId, now() + interval '1 day');
        insert into ops.builds (id, project_id, branch_id, status, trigger, commit_sha, triggered_by, queued_at, started_at, finished_at, created_at) values
            (@SuccessBuildId, @ProjectId, @ProductionBranchId, 'success', 'push', 'abc123', null, now() - interval '3 hours', now() - interval '3 hours', now() - interval '170 minutes', now() - interval '3 hours'),
            (@FailedBuildId, @ProjectId, @StagingBranchId, 'failed', 'push', 'abc124', null, now() - interval '2 hours', now() - interval '2 hours', now() - interval '110 minutes', now() - interval '2 hours'),
            (@RunningBuildId, @ProjectId, @DevBranchId, 'running', 'manual', null, @DeveloperId, now() - interval '10 minutes', now() - interval '9 minutes', null, now() - interval '10 minutes'),
            (@QueuedBuildId, @ProjectId, @DevBranchId, 'queued', 'manual', null, @TesterId, now(), null, null, now());
        insert into ops.run_queue (build_id, project_id, state, priority, attempts, lease_id, lease_owner, lease_until)
            values (@RunningBuildId, @ProjectId, 'leased', 120, 1, gen_random_uuid(), @RunnerId, now() + interval '5 minutes');
        insert into ops.build_steps (build_id, project_id, seq, name, status, exit_code, duration_ms) values
            (@SuccessBuildId, @ProjectId, 0, 'checkout', 'success', 0, 1200), (@SuccessBuildId, @ProjectId, 1, 'tests', 'success', 0, 50000);
        insert into ops.build_logs (build_id, project_id, seq, stream, line) values
            (@SuccessBuildId, @ProjectId, 0, 'system', 'build started'), (@SuccessBuildId, @ProjectId, 1, 'stdout', 'all tests passed');
        insert into ops.metric_samples (project_id, branch_id, metric, ts, value)
            select @ProjectId, @ProductionBranchId, 'cpu_pct', date_trunc('minute', now()) - make_interval(mins => i), i from generate_series(0, 9) i;
        insert into ops.metric_rollups_minute (project_id, branch_id, metric, bucket, count, sum, min, max, last, last_ts)
            values (@ProjectId, @ProductionBranchId, 'cpu_pct', date_trunc('minute', now()), 1, 5, 5, 5, 5, now());
        insert into ops.metric_rollups_hour (project_id, branch_id, metric, bucket, count, sum, min, max, last, last_ts)
            values (@ProjectId, @ProductionBranchId, 'cpu_pct', date_trunc('hour', now()), 10, 45, 0, 9, 0, now());
        insert into ops.advisories (id, project_id, branch_id, rule, fingerprint, severity, title, status, resolved_at) values
            (@OpenAdvisoryId, @ProjectId, @ProductionBranchId, 'memory_high', 'memory_high', 'warning', 'Memory high', 'open', null),
            (@ResolvedAdvisoryId, @ProjectId, null, 'no_production_branch', 'no_production_branch', 'warning', 'No production branch', 'resolved', now());
        insert into ops.api_tokens (id, user_id, name, token_prefix, token_hash, scope) values (@ApiTokenId, @OwnerId, 'cli', 'oo_' || @Key, @ApiTokenHash, 'write');
        insert into ops.ingest_tokens (id, project_id, name, token_prefix, token_hash, created_by)
            values (@IngestTokenId, @ProjectId, 'agent', 'oi_' || @Key, @IngestTokenHash, @OwnerId);
        insert into ops.env_vars (id, project_id, stage, name, value, is_secret) values
            (@DevEnvVarId, @ProjectId, 'development', 'DB_HOST', 'db-dev', false),
            (@ProductionEnvVarId, @ProjectId, 'production', 'SMTP_PASSWORD', 'secret-' || @Key, true);
        insert into ops.deployments (id, project_id, branch_id, build_id, stage, status, url, created_by)
            values (@DeploymentId, @ProjectId, @ProductionBranchId, @SuccessBuildId, 'production', 'live', 'https://erp.example', @OwnerId);
        insert into ops.instances (project_id, branch_id, build_id, runner_id, stage, state, is_current, database_name)
            values (@ProjectId, @ProductionBranchId, @SuccessBuildId, @RunnerId, 'production', 'running', true, 'oo-erp-' || @Key);
        insert into ops.instance_logs (instance_id, project_id, seq, level, line)
            select i.id, @ProjectId, 0, 'INFO', 'odoo: Odoo version 19.0' from ops.instances i where i.branch_id = @ProductionBranchId;
        insert into ops.instance_domains (project_id, branch_id, name, created_by)
            values (@ProjectId, @ProductionBranchId, 'erp-' || lower(@Key) || '.example.com', @OwnerId);
        with backup as (insert into ops.backups (project_id, branch_id, kind, status, requested_by)
                        values (@ProjectId, @ProductionBranchId, 'manual', 'succeeded', @OwnerId) returning id),
             task as (insert into ops.runner_tasks (project_id, branch_id, kind, backup_id, runner_id)
                      select @ProjectId, @ProductionBranchId, 'verify', id, @RunnerId from backup returning id)
        insert into ops.runner_task_logs (task_id, project_id, seq, line) select id, @ProjectId, 0, 'pg_restore: done' from task;
        insert into ops.member_invitations (id, org_id, project_id, email, role, invited_by, expires_at) values
            (@OrgInvitationId, @OrgId, null, @Key || '-invitee@elsewhere.test', 'developer', @OwnerId, now() + interval '1 day'),
            (@ProjectInvitationId, @OrgId, @ProjectId, @Key || '-invitee@elsewhere.test', 'tester', @OwnerId, now() + interval '1 day');
        insert into ops.notification_channels (id, org_id, name, kind, target, events, created_by)
            values (@NotificationChannelId, @OrgId, 'Alerts', 'webhook', 'https://hooks.example/' || @Key, '{build.failed}', @OwnerId);
        insert into ops_private.notification_events (id, org_id, project_id, event, summary, data)
            values (@NotificationEventId, @OrgId, @ProjectId, 'build.failed', 'ERP: build of staging failed', '{}');
        insert into ops.notification_deliveries (id, org_id, channel_id, event_id, event, project_id, summary, status, attempts, response_code)
            values (@NotificationDeliveryId, @OrgId, @NotificationChannelId, @NotificationEventId, 'build.failed', @ProjectId,
                    'ERP: build of staging failed', 'delivered', 1, 200);
        """;
}
