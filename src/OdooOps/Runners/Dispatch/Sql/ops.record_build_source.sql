-- What the runner checked out (the resolved commit when the build named none), the Odoo modules it found and the
-- SHA-256 of its requirements.txt (what the next production build compares its own with).
create or replace function ops.record_build_source(p_runner_id uuid, p_build_id uuid, p_lease_id uuid, p_commit_sha text,
                                        p_commit_message text, p_modules jsonb, p_requirements_sha256 text default null)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform ops_private.held_lease(p_runner_id, p_build_id, p_lease_id);
    update ops.builds b
       set commit_sha = coalesce(p_commit_sha, b.commit_sha),
           commit_message = coalesce(pg_catalog.left(p_commit_message, 2000), b.commit_message),
           modules = coalesce(p_modules, b.modules),
           requirements_sha256 = coalesce(p_requirements_sha256, b.requirements_sha256)
     where b.id = p_build_id;
end
$$;
revoke all on function ops.record_build_source(uuid, uuid, uuid, text, text, jsonb, text) from public, ops_app, ops_service;
grant execute on function ops.record_build_source(uuid, uuid, uuid, text, text, jsonb, text) to ops_service;
