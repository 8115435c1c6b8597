-- A queued build joins the run queue (see ops.builds_enqueue).
create or replace trigger builds_enqueue
    after insert on ops.builds
    for each row when (new.status = 'queued')
    execute function ops.builds_enqueue();
