-- updated_at follows every change of the row.
create or replace trigger users_touch_updated_at
    before update on registry.users
    for each row execute function ops.touch_updated_at();
