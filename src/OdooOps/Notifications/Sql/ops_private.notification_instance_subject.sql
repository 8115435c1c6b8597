-- An instance as notification payloads show it (instance.down, instance.recovered).
create or replace function ops_private.notification_instance_subject(p_instance ops.instances)
returns jsonb
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
    select pg_catalog.jsonb_build_object(
        'id', p_instance.id, 'state', p_instance.state, 'reason', p_instance.reason, 'stage', p_instance.stage,
        'build_id', p_instance.build_id, 'restarts', p_instance.restarts, 'started_at', p_instance.started_at,
        'ready_at', p_instance.ready_at)
$$;
revoke all on function ops_private.notification_instance_subject(ops.instances) from public, ops_app, ops_service;
