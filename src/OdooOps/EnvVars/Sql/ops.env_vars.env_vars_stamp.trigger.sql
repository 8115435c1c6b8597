-- Who changed a variable and when, and when its stage's variables last changed (see ops.env_vars_stamp).
create or replace trigger env_vars_stamp
    before insert or update or delete on ops.env_vars
    for each row execute function ops.env_vars_stamp();
