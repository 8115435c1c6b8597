-- Records what a check of a domain found (the host resolved the name): p_verified true = it points at this server
-- (verified_at now, the proxy routes it), false = it does not (verified_at cleared: the name goes elsewhere or
-- nowhere), null = the look-up itself failed (a timeout, a server failure): verified_at stays as it was, so a DNS
-- hiccup during a check does not take a live domain offline. p_error: the reason, in words. Answers the row.
create or replace function ops.record_instance_domain_check(p_project_id uuid, p_domain_id uuid, p_verified boolean, p_error text)
returns ops.instance_domains
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_row ops.instance_domains;
begin
    v_row := ops_private.domain_for_write(p_project_id, p_domain_id);
    update ops.instance_domains d
       set checked_at = pg_catalog.now(),
           check_error = pg_catalog.left(p_error, 1000),
           verified_at = case when p_verified then pg_catalog.now() when not p_verified then null else d.verified_at end
     where d.id = p_domain_id
    returning * into v_row;
    return v_row;
end
$$;
revoke all on function ops.record_instance_domain_check(uuid, uuid, boolean, text) from public, ops_app, ops_service;
grant execute on function ops.record_instance_domain_check(uuid, uuid, boolean, text) to ops_app;
