-- Instances of a runner not heard from for p_after are shown as unknown (a stopped one stays stopped); the runner's
-- next sync puts back what they really are. Answers how many were marked.
create or replace function ops.mark_lost_instances(p_after interval)
returns integer
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_count int;
begin
    update ops.instances i
       set state = 'unknown', reason = 'runner ' || r.name || ' not heard from since ' ||
                                       pg_catalog.to_char(coalesce(r.instances_seen_at, r.last_seen_at) at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC'
      from ops.runners r
     where r.id = i.runner_id and i.cleaned_at is null and i.state not in ('stopped', 'unknown')
       and coalesce(r.instances_seen_at, r.last_seen_at, i.created_at) < pg_catalog.now() - p_after;
    get diagnostics v_count = row_count;
    return v_count;
end
$$;
revoke all on function ops.mark_lost_instances(interval) from public, ops_app, ops_service;
grant execute on function ops.mark_lost_instances(interval) to ops_service;
