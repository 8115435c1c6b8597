-- Why the acting user may not roll a branch back to this deployment's release now; no row when they may. The one owner
-- of the rule: ops.rollback_deployment raises what it answers, and the console and API list it per deployment, so a
-- page offers only what would succeed. In order: unknown or invisible (P0002); the role (42501): admin on production,
-- developer on development and staging, by the stricter of the deployment's stage and its branch's now; then 55000:
-- an archived branch, no live deployment, the live one itself, one that never ran (only superseded and rolled-back
-- releases were live), no current instance on a runner, and a release that runner no longer keeps
-- (ops.runner_kept_releases: the newest 3 instances' of a branch, besides live ones).
create or replace function ops.rollback_refusal(p_deployment_id uuid)
returns table (code text, message text)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_user     boolean := ops_private.is_request_session();
    v_target   ops.deployments;
    v_branch   ops.branches;
    v_live     ops.deployments;
    v_current  ops.instances;
    v_needed   text;
begin
    select * into v_target from ops.deployments d
     where d.id = p_deployment_id and (not v_user or d.project_id = any (ops.visible_project_ids()));
    if not found then
        return query select 'P0002', pg_catalog.format('deployment %s not found', p_deployment_id);
        return;
    end if;
    select * into v_branch from ops.branches b where b.id = v_target.branch_id;
    v_needed := case when 'production' in (v_branch.stage, v_target.stage) then 'admin' else 'developer' end;
    if v_user and ops.role_rank(ops.project_role(v_target.project_id)) < ops.role_rank(v_needed) then
        return query select '42501', pg_catalog.format('Rolling back the %s branch %s needs the %s role or higher; you are %s.',
                case when v_needed = 'admin' then 'production' else v_branch.stage end, v_branch.name, v_needed,
                coalesce(ops.project_role(v_target.project_id), 'no member'));
        return;
    end if;
    if v_branch.archived_at is not null or exists (select 1 from ops.projects p where p.id = v_target.project_id and p.archived_at is not null) then
        return query select '55000', pg_catalog.format('%s is archived: nothing of it runs any more.', v_branch.name);
        return;
    end if;
    select * into v_live from ops.deployments d where d.branch_id = v_branch.id and d.status = 'live';
    if not found then
        return query select '55000', pg_catalog.format('%s has no live deployment to roll back.', v_branch.name);
        return;
    end if;
    if v_live.id = v_target.id then
        return query select '55000', pg_catalog.format('This is the deployment live on %s: choose an earlier one to roll back to.', v_branch.name);
        return;
    end if;
    if v_target.status not in ('superseded', 'rolled_back') or v_target.build_id is null then
        return query select '55000', pg_catalog.format('This deployment never ran on %s (%s): only a release that was live can be rolled back to.',
                v_branch.name, v_target.status);
        return;
    end if;
    select * into v_current from ops.instances i where i.branch_id = v_branch.id and i.is_current;
    if not found or v_current.runner_id is null then
        return query select '55000', pg_catalog.format('%s has no current instance on a runner to replace.', v_branch.name);
        return;
    end if;
    if not exists (select 1 from ops.runner_kept_releases(v_current.runner_id) k where k = v_target.build_id) then
        return query select '55000', pg_catalog.format(
                'The release of build %s%s is no longer kept on %s''s host (a runner keeps the releases of the newest 3 instances of a branch): build that commit again instead.',
                pg_catalog.left(v_target.build_id::text, 8), coalesce(' (commit ' || pg_catalog.left(v_target.commit_sha, 12) || ')', ''), v_branch.name);
        return;
    end if;
end
$$;
revoke all on function ops.rollback_refusal(uuid) from public, ops_app, ops_service;
grant execute on function ops.rollback_refusal(uuid) to ops_app;
