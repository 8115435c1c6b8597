-- 0017: from here on, functions, triggers, privileges and policies live in their canonical files (<Feature>/Sql/),
-- applied after the migrations: migrations change tables, columns, indexes and constraints, move data, and drop
-- what the files no longer define or define with another signature.
-- Gone: functions that nothing but tests called. Builds are listed by the API's own query (keyset on created_at
-- and id), metrics arrive through ops.ingest_metric_batch, and organisations are created by the admin verb.
-- Changed: ops.trigger_build owns every rule of a new build now (dedupe, queue cap, superseding, its audit row)
-- and answers what it did instead of a build row.
drop function ops.list_builds(uuid, uuid, text, timestamptz, int);
drop function ops.ingest_metrics(uuid, timestamptz, jsonb);
drop function ops.create_org(text, text);
drop function ops.trigger_build(uuid, uuid, text, text);
