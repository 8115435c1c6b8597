-- The start of every table's access file (<table>.policies.sql): the request roles lose every privilege on the table
-- and every row level security policy on it is dropped, so that the file then grants and creates the whole set and
-- nothing written elsewhere survives. Runs inside the transaction that applies the files, so no request ever sees
-- the table without its rules. Owner only.
create or replace function ops_private.reset_access(p_table regclass)
returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_policy  name;
begin
    execute pg_catalog.format('revoke all on %s from ops_app, ops_service', p_table);
    for v_policy in select p.polname from pg_catalog.pg_policy p where p.polrelid = p_table loop
        execute pg_catalog.format('drop policy %I on %s', v_policy, p_table);
    end loop;
end
$$;
revoke all on function ops_private.reset_access(regclass) from public, ops_app, ops_service;
