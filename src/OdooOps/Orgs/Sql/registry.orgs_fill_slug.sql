-- Fills orgs.slug from the name when the insert gives none, appending -2, -3 ...
-- until unique. SECURITY DEFINER because it must see every org's slug, not
-- only the caller's (RLS would hide them and produce false "free" slugs).
create or replace function registry.orgs_fill_slug()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_base      text;
    v_candidate text;
    v_n         int := 1;
begin
    if new.slug is not null then
        return new;
    end if;

    -- leave room for a '-NNNNNNN' suffix within the 63-char limit
    v_base := pg_catalog.btrim(pg_catalog.left(ops.slugify(new.name), 55), '-');
    if v_base = '' then
        v_base := 'org';
    end if;

    -- serialize concurrent inserts that derive the same base slug
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('registry.orgs.slug'), pg_catalog.hashtext(v_base));

    v_candidate := v_base;
    while exists (select 1 from registry.orgs o where o.slug = v_candidate) loop
        v_n := v_n + 1;
        v_candidate := v_base || '-' || v_n::text;
    end loop;

    new.slug := v_candidate;
    return new;
end
$$;
revoke all on function registry.orgs_fill_slug() from public, ops_app, ops_service;
