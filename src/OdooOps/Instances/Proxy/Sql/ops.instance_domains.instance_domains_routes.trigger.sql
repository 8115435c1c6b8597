-- A domain added, checked or removed changes where its name goes (ops_private.notify_instance_routes).
create or replace trigger instance_domains_routes
    after insert or update or delete on ops.instance_domains
    for each statement
    execute function ops_private.notify_instance_routes();
