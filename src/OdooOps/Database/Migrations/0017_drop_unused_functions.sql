-- 0017: functions that nothing but tests called. Builds are listed by the API's own query (keyset on created_at
-- and id), metrics arrive through ops.ingest_metric_batch, and organisations are created by the admin verb.
-- From here on, functions, triggers and policies live in their canonical files (<Feature>/Sql/): migrations
-- change tables, columns, indexes and constraints, move data, and drop what the files no longer define.
drop function ops.list_builds(uuid, uuid, text, timestamptz, int);
drop function ops.ingest_metrics(uuid, timestamptz, jsonb);
drop function ops.create_org(text, text);
