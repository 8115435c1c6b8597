-- A runner's instance address is where the proxy reaches its instances (ops_private.notify_instance_routes).
create or replace trigger runners_instance_routes
    after update of instance_address on ops.runners
    for each row
    when (old.instance_address is distinct from new.instance_address)
    execute function ops_private.notify_instance_routes();
