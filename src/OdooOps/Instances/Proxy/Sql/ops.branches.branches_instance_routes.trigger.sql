-- A branch's host label or archiving changes where its names go (ops_private.notify_instance_routes).
create or replace trigger branches_instance_routes
    after update of host_label, archived_at on ops.branches
    for each row
    when (old.host_label is distinct from new.host_label or old.archived_at is distinct from new.archived_at)
    execute function ops_private.notify_instance_routes();
