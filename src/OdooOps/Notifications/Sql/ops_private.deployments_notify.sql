-- A deployment's outcome announced: deployment.succeeded (a release went live, a rollback's included: kind 'rollback'),
-- deployment.failed (its instance failed before going live) and deployment.reverted (a failed production update the
-- runner undid by itself, ops_private.record_reverted_deploy).
create or replace function ops_private.deployments_notify()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_branch   text := coalesce((select b.name from ops.branches b where b.id = new.branch_id), 'a branch');
    v_release  text := coalesce(pg_catalog.left(new.commit_sha, 12), 'build ' || pg_catalog.left(new.build_id::text, 8), 'a release');
    v_event    text;
    v_summary  text;
begin
    case new.status
        when 'live' then
            v_event := 'deployment.succeeded';
            v_summary := case when new.kind = 'rollback' then 'rolled ' || v_branch || ' back to ' || v_release
                              else v_release || ' is live on ' || v_branch end;
        when 'failed' then
            v_event := 'deployment.failed';
            v_summary := 'deployment of ' || v_release || ' to ' || v_branch || ' failed' || coalesce(': ' || pg_catalog.left(new.reason, 200), '');
        when 'reverted' then
            v_event := 'deployment.reverted';
            v_summary := 'deployment of ' || v_release || ' to ' || v_branch || ' was reverted' || coalesce(': ' || pg_catalog.left(new.reason, 200), '');
        else
            return null;
    end case;
    perform ops_private.queue_notification(new.project_id, new.branch_id, v_event, null, v_summary, 'deployment',
        pg_catalog.jsonb_build_object(
            'id', new.id, 'status', new.status, 'kind', new.kind, 'stage', new.stage, 'build_id', new.build_id,
            'commit_sha', new.commit_sha, 'instance_id', new.instance_id, 'switch_ms', new.switch_ms, 'reason', new.reason,
            'rollback_of', new.rollback_of, 'reverted_to_build_id', new.reverted_to_build_id, 'backup_id', new.backup_id,
            'started_at', new.started_at, 'finished_at', new.finished_at,
            'created_by', (select coalesce(u.display_name, u.email) from registry.users u where u.id = new.created_by)), null);
    return null;
end
$$;
revoke all on function ops_private.deployments_notify() from public, ops_app, ops_service;
