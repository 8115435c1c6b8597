-- What the server's dry run of a deploy needs, for a person allowed to build the branch (ops.can_build: developers on
-- production, testers on development and staging): the repository and its credential (still encrypted; the host
-- decrypts it for one fetch, as it does for a build), and what the branch runs now (ops_private.branch_deployed_state,
-- as a production build is given it): the modules its database holds, the release and its requirements.txt digest.
-- Unknown, invisible or archived branch: P0002; not allowed: 42501 in words. SECURITY DEFINER: the credential is
-- owner-only.
create or replace function ops.deploy_plan_source(p_project_id uuid, p_branch_id uuid)
returns table (project_slug text, repo_url text, branch text, stage text, credential_kind text, credential_username text,
               credential_secret text, deployed_build_id uuid, deployed_modules jsonb, deployed_requirements_sha256 text)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
declare
    v_user    boolean := ops_private.is_request_session();
    v_branch  ops.branches;
begin
    select b.* into v_branch from ops.branches b join ops.projects p on p.id = b.project_id
     where b.id = p_branch_id and b.project_id = p_project_id and b.archived_at is null and p.archived_at is null
       and (not v_user or b.project_id = any (ops.visible_project_ids()));
    if not found then
        raise exception 'branch % not found', p_branch_id using errcode = 'P0002';
    end if;
    if v_user and not ops.can_build(p_project_id, p_branch_id) then
        raise exception '%', pg_catalog.format(
                'The deploy plan of %s needs the %s role or higher (the server fetches the repository with the project''s credential); you are %s.',
                v_branch.name, ops.build_role(v_branch.stage), coalesce(ops.project_role(p_project_id), 'no member'))
            using errcode = '42501';
    end if;
    return query
    select p.slug, p.repo_url, v_branch.name, v_branch.stage, c.kind, c.username, c.secret, s.build_id, s.modules, s.requirements_sha256
      from ops.projects p
      left join ops_private.repo_credentials c on c.project_id = p.id
      cross join ops_private.branch_deployed_state(p_branch_id, null) s
     where p.id = p_project_id;
end
$$;
revoke all on function ops.deploy_plan_source(uuid, uuid) from public, ops_app, ops_service;
grant execute on function ops.deploy_plan_source(uuid, uuid) to ops_app;
