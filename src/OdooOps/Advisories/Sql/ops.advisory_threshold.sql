-- A numeric threshold from the inputs, or its default.
create or replace function ops.advisory_threshold(p_inputs jsonb, p_key text, p_default double precision)
returns double precision language sql immutable set search_path = pg_catalog, pg_temp
as $$ select coalesce((p_inputs ->> p_key)::double precision, p_default) $$;
revoke all on function ops.advisory_threshold(jsonb, text, double precision) from public, ops_app, ops_service;
