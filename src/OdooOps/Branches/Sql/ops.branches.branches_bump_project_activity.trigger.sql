-- A new or changed branch makes its project recently active.
create or replace trigger branches_bump_project_activity
    after insert or update on ops.branches
    for each row execute function ops.bump_project_activity();
