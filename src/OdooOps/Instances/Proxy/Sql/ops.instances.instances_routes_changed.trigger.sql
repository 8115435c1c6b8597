-- The runner's sync rewrites rows every few seconds: only a change the proxy routes by is announced.
create or replace trigger instances_routes_changed
    after update of is_current, state, reason, http_port, gevent_port, runner_id, retired_at on ops.instances
    for each row
    when (old.is_current is distinct from new.is_current or old.state is distinct from new.state
          or old.reason is distinct from new.reason or old.http_port is distinct from new.http_port
          or old.gevent_port is distinct from new.gevent_port or old.runner_id is distinct from new.runner_id
          or old.retired_at is distinct from new.retired_at)
    execute function ops_private.notify_instance_routes();
