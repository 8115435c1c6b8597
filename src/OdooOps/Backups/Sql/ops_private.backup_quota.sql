-- At most 5 backups of a kind (manual, import) per branch in any 24 hours, Odoo.sh's "5 manual backups a day": the 6th
-- is refused with SQLSTATE OOB01 (HTTP 429), its HINT the seconds until the oldest of the five turns 24 hours old
-- (Retry-After). Backups that failed count too: each request takes the host's time. The caller holds the branch's lock.
create or replace function ops_private.backup_quota(p_branch ops.branches, p_kind text)
returns void
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_count   int;
    v_oldest  timestamptz;
    v_wait    int;
begin
    select count(*), min(r.created_at) into v_count, v_oldest
      from (select k.created_at from ops.backups k
             where k.branch_id = p_branch.id and k.kind = p_kind and k.created_at > pg_catalog.now() - interval '24 hours'
             order by k.created_at desc limit 5) r;
    if v_count >= 5 then
        v_wait := greatest(1, ceil(extract(epoch from v_oldest + interval '24 hours' - pg_catalog.now()))::int);
        raise exception '%', pg_catalog.format('%s already had 5 %s backups in the last 24 hours, the most it may have; the next is possible in %s.',
                p_branch.name, p_kind,
                case when v_wait >= 3600 then (v_wait / 3600) || ' h ' || (v_wait % 3600 / 60) || ' min'
                     else ceil(v_wait / 60.0)::int || ' min' end)
            using errcode = 'OOB01', hint = v_wait::text;
    end if;
end
$$;
revoke all on function ops_private.backup_quota(ops.branches, text) from public, ops_app, ops_service;
