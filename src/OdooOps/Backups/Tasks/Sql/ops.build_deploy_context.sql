-- What a leased build deploys over, asked by the runner API right after the claim, under the lease:
--   production: the SHA-256 of requirements.txt of the release the branch runs (ops_private.branch_deployed_state;
--               null: none, or no file), which
--               with deployed_build_modules decides a pre-deploy backup;
--   staging:    what its database starts from, by the project's staging_source: 'backup', the newest succeeded and
--               verified backup of the project's production branch; 'live', the production branch's current instance
--               and its database when it runs on this same runner (its database server), else that backup, said in
--               the build's log as a system line. No production branch, or no verified backup: nothing (empty).
-- and the host labels of the branch's URL (null until its first instance). log_seq_next: one past a line written
-- here (null when none), where the runner's own numbering starts. branch_id: where the build's filestore lives.
create or replace function ops.build_deploy_context(p_runner_id uuid, p_build_id uuid, p_lease_id uuid)
returns table (deployed_requirements_sha256 text, staging_backup_id uuid, live_database text, live_instance_id uuid,
               log_seq_next bigint, branch_label text, project_label text, branch_id uuid)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_lease       ops.run_queue;
    v_build       ops.builds;
    v_branch      ops.branches;
    v_project     ops.projects;
    v_stage       text;
    v_production  uuid;
    v_line        text;
    v_seq         bigint;
begin
    v_lease := ops_private.held_lease(p_runner_id, p_build_id, p_lease_id);
    select * into v_build from ops.builds b where b.id = p_build_id;
    select * into v_branch from ops.branches br where br.id = v_build.branch_id;
    branch_id := v_branch.id;
    select * into v_project from ops.projects p where p.id = v_build.project_id;
    v_stage := coalesce((select s.stage from ops_private.build_snapshots s where s.build_id = p_build_id), v_branch.stage);
    branch_label := v_branch.host_label;
    project_label := v_project.host_label;

    if v_stage = 'production' then
        select s.requirements_sha256 into deployed_requirements_sha256
          from ops_private.branch_deployed_state(v_build.branch_id, p_build_id) s;
    elsif v_stage = 'staging' then
        select br.id into v_production from ops.branches br
         where br.project_id = v_build.project_id and br.stage = 'production' and br.archived_at is null
         order by br.created_at limit 1;
        if v_production is not null and v_project.staging_source = 'live' then
            select i.id, i.database_name into live_instance_id, live_database
              from ops.instances i
             where i.branch_id = v_production and i.is_current and i.retired_at is null and i.runner_id = p_runner_id;
            if live_instance_id is null then
                v_line := 'The project copies production into staging live, but production does not run on this build''s runner: '
                          || 'starting from its latest verified backup instead.';
            end if;
        end if;
        if v_production is not null and live_instance_id is null then
            select b.id into staging_backup_id
              from ops.backups b
             where b.branch_id = v_production and b.status = 'succeeded' and b.verification = 'verified' and b.deleted_at is null
             order by b.created_at desc
             limit 1;
            if staging_backup_id is null then
                v_line := coalesce(v_line || ' ', '') || 'Production has no verified backup yet: staging starts from an empty database.';
            end if;
        end if;
        if v_line is not null then
            v_seq := coalesce((select pg_catalog.max(g.seq) + 1 from ops.build_logs g where g.build_id = p_build_id), 0);
            insert into ops.build_logs (build_id, project_id, seq, stream, line)
            values (p_build_id, v_lease.project_id, v_seq, 'system', v_line);
            log_seq_next := v_seq + 1;
        end if;
    end if;
    return next;
end
$$;
revoke all on function ops.build_deploy_context(uuid, uuid, uuid) from public, ops_app, ops_service;
grant execute on function ops.build_deploy_context(uuid, uuid, uuid) to ops_service;
