-- updated_at follows every change of the row.
create or replace trigger branches_touch_updated_at
    before update on ops.branches
    for each row execute function ops.touch_updated_at();
