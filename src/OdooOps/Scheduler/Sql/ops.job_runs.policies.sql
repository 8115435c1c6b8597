-- ops.job_runs: System admins only, read-only.
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops.job_runs');
grant select on ops.job_runs to ops_app;

create policy job_runs_select on ops.job_runs
    for select to ops_app
    using ((select ops.is_system_admin()));
