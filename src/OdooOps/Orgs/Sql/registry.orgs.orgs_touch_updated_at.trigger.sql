-- updated_at follows every change of the row.
create or replace trigger orgs_touch_updated_at
    before update on registry.orgs
    for each row execute function ops.touch_updated_at();
