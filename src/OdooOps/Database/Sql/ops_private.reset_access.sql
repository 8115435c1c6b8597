-- The start of every table's access file (<table>.policies.sql): every role but the table's owner loses every
-- privilege on the table and its columns, and every row level security policy on it is dropped, so that the file then
-- grants and creates the whole set and nothing written elsewhere survives. The grantees are read from the catalog,
-- never named here: a copy of the database has request roles of its own name (RequestRoles). Runs inside the
-- transaction that applies the files, so no request ever sees the table without its rules. Owner only.
create or replace function ops_private.reset_access(p_table regclass)
returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_grantee  text;
    v_policy   name;
begin
    for v_grantee in
        select distinct case when a.grantee = 0 then 'public' else pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) end
          from pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
         where c.oid = p_table and a.grantee <> c.relowner
        union
        select case when a.grantee = 0 then 'public' else pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) end
          from pg_catalog.pg_attribute att, pg_catalog.aclexplode(att.attacl) a
         where att.attrelid = p_table and not att.attisdropped
           and a.grantee <> (select c.relowner from pg_catalog.pg_class c where c.oid = p_table)
    loop
        -- Revoking on the table takes the grantee's column privileges too.
        execute pg_catalog.format('revoke all on %s from %s', p_table, v_grantee);
    end loop;
    for v_policy in select p.polname from pg_catalog.pg_policy p where p.polrelid = p_table loop
        execute pg_catalog.format('drop policy %I on %s', v_policy, p_table);
    end loop;
end
$$;
revoke all on function ops_private.reset_access(regclass) from public, ops_app, ops_service;
