-- A backup or its verification that fails is announced (ops_private.backups_notify).
create or replace trigger backups_notify
    after update of status, verification on ops.backups
    for each row
    when ((new.status = 'failed' and old.status is distinct from new.status)
          or (new.verification = 'failed' and old.verification is distinct from new.verification))
    execute function ops_private.backups_notify();
