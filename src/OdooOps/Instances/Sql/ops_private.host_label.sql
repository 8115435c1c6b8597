-- A DNS label made of a name: lower-case letters, digits and inner hyphens, at most p_max characters ("" for none).
create or replace function ops_private.host_label(p_name text, p_max int default 63)
returns text
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$
    select pg_catalog.btrim(pg_catalog.left(pg_catalog.btrim(
               pg_catalog.regexp_replace(pg_catalog.lower(coalesce(p_name, '')), '[^a-z0-9]+', '-', 'g'), '-'), p_max), '-')
$$;
revoke all on function ops_private.host_label(text, int) from public, ops_app, ops_service;
