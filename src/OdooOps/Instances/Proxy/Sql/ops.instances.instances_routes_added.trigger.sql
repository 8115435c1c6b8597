-- A new or deleted instance changes where its branch's names go (ops_private.notify_instance_routes).
create or replace trigger instances_routes_added
    after insert or delete on ops.instances
    for each statement
    execute function ops_private.notify_instance_routes();
