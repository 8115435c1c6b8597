-- ops.instance_domains: Read-only for the app; added, checked and removed through the domain functions (names are
-- unique across every organisation, which a request role that sees only its own rows cannot check).
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.instance_domains');
grant select on ops.instance_domains to ops_app;

create policy instance_domains_select on ops.instance_domains
    for select to ops_app
    using (project_id in (select unnest(ops.visible_project_ids())));
