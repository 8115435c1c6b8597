-- 0018: the group roles of a database are its own (named after it) instead of the cluster-wide ops_app and
-- ops_service, which every OdooOps database of a cluster shared. The host creates them, moves every privilege and
-- policy of the former groups to them and keeps them out of other databases (RequestRoles); this table records
-- which groups this database's privileges name, so that a copy, a restore or a rename of the database is noticed
-- (its privileges then move to the groups of its own name). Owner-only: RLS on, no policy, no grants.
create table ops_private.request_roles (
    kind       text primary key check (kind in ('app', 'service')),
    role_name  name not null
);
alter table ops_private.request_roles enable row level security;
revoke all on ops_private.request_roles from public;
