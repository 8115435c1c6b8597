-- Only real edits move updated_at; activity bumps (last_activity_at) do not.
create or replace trigger projects_touch_updated_at
    before update of org_id, name, slug, repo_url, runtime_version, archived_at on ops.projects
    for each row execute function ops.touch_updated_at();
