-- ops.runners: Not writable by the app; token hashes are never granted. Org runners: members of that org. Shared runners:
-- anyone signed in.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.runners');
grant select (id, org_id, name, labels, capacity, version, last_seen_at, created_at, disabled_at, embedded,
              serves_instances, instance_capacity, instance_address, instances_seen_at) on ops.runners to ops_app;

create policy runners_select on ops.runners
    for select to ops_app
    using (org_id in (select unnest(ops.visible_org_ids()))
           or (org_id is null and (select ops.active_user_id()) is not null));
