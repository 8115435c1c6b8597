-- The backup a person's request names and its branch, or P0002 when it does not exist or the caller cannot see its
-- project (the owner and the system see every one).
create or replace function ops_private.visible_backup(p_backup_id uuid)
returns ops.backups
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_backup  ops.backups;
begin
    select * into v_backup from ops.backups k
     where k.id = p_backup_id and (not ops_private.is_request_session() or k.project_id = any (ops.visible_project_ids()));
    if not found then
        raise exception 'backup % not found', p_backup_id using errcode = 'P0002';
    end if;
    return v_backup;
end
$$;
revoke all on function ops_private.visible_backup(uuid) from public, ops_app, ops_service;
