-- updated_at follows every change of the row.
create or replace trigger env_vars_touch_updated_at
    before update on ops.env_vars
    for each row execute function ops.touch_updated_at();
