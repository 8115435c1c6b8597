-- Runs every rule over the non-archived projects (or p_project_id alone), then in one statement: refreshes the
-- advisories that still fire (last_seen_at, detail, measured value; a suppression that has expired reopens),
-- creates the new ones, and resolves those of rules that ran and no longer fire. Rules that raised are returned
-- in unavailable (with their errors in unavailable_reasons, for the server log) and their advisories stay as
-- they are. A server rule whose measurement is missing from p_inputs.server (too few requests yet, a single-
-- project scan) is neither run nor reported: its advisories are held too. Suppressed advisories never count as
-- created. One scan at a time.
create or replace function ops.run_advisory_scan(p_project_id uuid, p_inputs jsonb)
returns table (advisories_created int, advisories_resolved int, projects_scanned int, unavailable text[], unavailable_reasons text[])
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_inputs    jsonb := coalesce(p_inputs, '{}');
    v_system    boolean := p_project_id is null or p_project_id = ops.system_project_id();
    v_projects  uuid[];
    v_findings  ops.advisory_finding[] := '{}';
    v_rows      ops.advisory_finding[];
    v_ran       text[] := '{}';
    v_rule      text;
    v_scope     uuid[];
    v_error     text;
begin
    perform pg_advisory_xact_lock(hashtext('ops.advisory_scan'));
    if v_system then
        perform ops.ensure_system_project();
    end if;
    unavailable := '{}';
    unavailable_reasons := '{}';

    v_projects := array(select p.id from ops.projects p
                         where p.archived_at is null and p.id <> ops.system_project_id()
                           and (p_project_id is null or p.id = p_project_id));

    for v_rule, v_scope in
        select r.rule, case when r.measure is null then v_projects else array[ops.system_project_id()] end
          from (values ('no_production_branch', null), ('production_build_failed', null), ('repeated_failures', null),
                       ('build_queue_stuck', null), ('runtime_unsupported', null), ('metrics_missing', null),
                       ('cpu_high', null), ('memory_high', null), ('instance_failed', null),
                       ('backup_failed', null), ('backup_missing', null), ('backup_verification_failed', null),
                       ('error_rate_high', 'error_rate_pct'), ('request_p95_high', 'p95_ms'), ('db_pool_saturated', 'pool_usage_pct')
               ) r(rule, measure)
         where r.measure is null or (v_system and v_inputs -> 'server' ->> r.measure is not null)
    loop
        begin
            execute format('select coalesce(array_agg(f), ''{}'') from ops.%I($1, $2) f', 'advisory_rule_' || v_rule)
               into v_rows using v_scope, v_inputs;
            v_findings := v_findings || v_rows;
            v_ran := v_ran || v_rule;
        exception when others then
            get stacked diagnostics v_error = message_text;
            unavailable := unavailable || v_rule;
            unavailable_reasons := unavailable_reasons || (v_rule || ': ' || v_error);
        end;
    end loop;

    with
    firing as (select * from unnest(v_findings)),
    resolved as (
        update ops.advisories a
           set status = 'resolved', resolved_at = now()
         where a.rule = any (v_ran)
           and (a.project_id = any (v_projects) or (v_system and a.project_id = ops.system_project_id()))
           and (a.status = 'open' or (a.status = 'suppressed' and a.suppressed_until <= now()))
           and not exists (select 1 from firing f where f.project_id = a.project_id and f.fingerprint = a.fingerprint)
        returning a.id),
    refreshed as (
        update ops.advisories a
           set last_seen_at = now(), severity = f.severity, title = f.title, detail = f.detail,
               remediation = f.remediation, measured_value = f.measured_value,
               status = case when a.status = 'suppressed' and a.suppressed_until <= now() then 'open' else a.status end,
               suppressed_until = case when a.status = 'suppressed' and a.suppressed_until <= now() then null else a.suppressed_until end
          from firing f
         where a.project_id = f.project_id and a.fingerprint = f.fingerprint and a.status <> 'resolved'
        returning a.id),
    created as (
        insert into ops.advisories (project_id, branch_id, rule, fingerprint, severity, title, detail, remediation, measured_value)
        select f.project_id, f.branch_id, f.rule, f.fingerprint, f.severity, f.title, f.detail, f.remediation, f.measured_value
          from firing f
         where not exists (select 1 from ops.advisories a
                            where a.project_id = f.project_id and a.fingerprint = f.fingerprint and a.status <> 'resolved')
        on conflict (project_id, fingerprint) where status <> 'resolved' do nothing
        returning id)
    select (select count(*) from created), (select count(*) from resolved)
      into advisories_created, advisories_resolved;

    projects_scanned := cardinality(v_projects) + case when v_system then 1 else 0 end;

    -- System admins see the system project through ordinary membership (developer: may resolve and suppress).
    if v_system then
        insert into registry.org_members (org_id, user_id, role)
        select ops.system_org_id(), u.id, 'developer' from registry.users u where u.is_system_admin and u.is_active
        on conflict (org_id, user_id) do nothing;
        delete from registry.org_members m
         where m.org_id = ops.system_org_id()
           and not exists (select 1 from registry.users u where u.id = m.user_id and u.is_system_admin and u.is_active);
    end if;

    return next;
end
$$;
revoke all on function ops.run_advisory_scan(uuid, jsonb) from public, ops_app, ops_service;
grant execute on function ops.run_advisory_scan(uuid, jsonb) to ops_service;
