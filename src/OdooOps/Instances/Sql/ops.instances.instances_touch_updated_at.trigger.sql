-- updated_at follows every change of the row.
create or replace trigger instances_touch_updated_at
    before update on ops.instances
    for each row execute function ops.touch_updated_at();
