-- Queues a build: one INSERT; the builds_enqueue trigger adds the queue row.
create or replace function ops.trigger_build(
    p_project_id uuid,
    p_branch_id uuid,
    p_trigger text default 'manual',
    p_commit_sha text default null)
returns ops.builds
language plpgsql
volatile
as $$
declare
    v_branch  ops.branches;
    v_row     ops.builds;
begin
    if coalesce(p_trigger, 'manual') not in ('manual', 'push', 'api', 'schedule', 'rebuild') then
        raise exception 'invalid trigger "%"', p_trigger using errcode = '22023';
    end if;
    if p_commit_sha is not null and pg_catalog.lower(pg_catalog.btrim(p_commit_sha)) !~ '^[0-9a-f]{4,64}$' then
        raise exception 'invalid commit_sha "%": expected 4-64 hex digits', p_commit_sha using errcode = '22023';
    end if;

    select * into v_branch
      from ops.branches b
     where b.id = p_branch_id
       and b.project_id = p_project_id;
    if not found then
        raise exception 'branch % not found in project %', p_branch_id, p_project_id using errcode = 'P0002';
    end if;
    if v_branch.archived_at is not null then
        raise exception 'branch % is archived', p_branch_id using errcode = '55000';
    end if;

    if pg_catalog.row_security_active('ops.builds') and not ops.can_build(p_project_id, p_branch_id) then
        raise exception 'not allowed to build % branch "%" (needs developer, or tester on non-production branches)',
            v_branch.stage, v_branch.name
            using errcode = '42501';
    end if;

    insert into ops.builds (project_id, branch_id, trigger, commit_sha, triggered_by)
    values (p_project_id, p_branch_id, coalesce(p_trigger, 'manual'),
            pg_catalog.lower(pg_catalog.btrim(p_commit_sha)), ops.current_user_id())
    returning * into v_row;
    return v_row;
end
$$;
revoke execute on function ops.trigger_build(uuid, uuid, text, text) from public;
grant execute on function ops.trigger_build(uuid, uuid, text, text) to ops_app;
