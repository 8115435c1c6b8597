-- The runner's sync rewrites instance rows every few seconds: only a change of state, currency or what was asked for
-- may announce anything (ops_private.instances_notify).
create or replace trigger instances_notify
    after update of state, is_current, desired, retired_at on ops.instances
    for each row
    when (old.state is distinct from new.state or old.is_current is distinct from new.is_current
          or old.desired is distinct from new.desired or old.retired_at is distinct from new.retired_at)
    execute function ops_private.instances_notify();
