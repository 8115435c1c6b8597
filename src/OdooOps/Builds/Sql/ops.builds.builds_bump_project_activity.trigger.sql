-- A new build makes its project recently active.
create or replace trigger builds_bump_project_activity
    after insert on ops.builds
    for each row execute function ops.bump_project_activity();
