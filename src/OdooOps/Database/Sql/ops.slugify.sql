-- URL-safe slug: lower case, runs of non [a-z0-9] become '-', trimmed, max 63
-- chars. Returns '' when nothing usable is left (callers pick a fallback).
-- Not SET search_path so the planner can inline it; it only uses pg_catalog
-- functions, qualified.
create or replace function ops.slugify(p_text text)
returns text
language sql
immutable
parallel safe
as $$
    select pg_catalog.btrim(
               pg_catalog.left(
                   pg_catalog.btrim(
                       pg_catalog.regexp_replace(pg_catalog.lower(coalesce(p_text, '')), '[^a-z0-9]+', '-', 'g'),
                       '-'),
                   63),
               '-')
$$;
revoke all on function ops.slugify(text) from public, ops_app, ops_service;
grant execute on function ops.slugify(text) to ops_app;
