-- The one writer of ops.audit_log. Every audited change goes through here: the host's (AuditLog, for signed-in
-- users and for the system's admin verbs) and the database's own use cases (ops.trigger_build, ops.webhook_push).
-- The acting user is the transaction's own (ops.current_user_id(); null for the system and for webhooks), so an
-- entry cannot name someone else; the audit_log_insert policy also keeps users to the tenants they can see.
create or replace function ops.write_audit(
    p_actor        text,
    p_action       text,
    p_target_type  text,
    p_target_id    text,
    p_org_id       uuid,
    p_project_id   uuid,
    p_before       jsonb default null,
    p_after        jsonb default null,
    p_ip           inet default null)
returns void
language sql
volatile
as $$
    insert into ops.audit_log (org_id, project_id, actor_user_id, actor, action, target_type, target_id, before, after, ip)
    values (p_org_id, p_project_id, ops.current_user_id(), p_actor, p_action, p_target_type, p_target_id, p_before, p_after, p_ip)
$$;
revoke all on function ops.write_audit(text, text, text, text, uuid, uuid, jsonb, jsonb, inet) from public, ops_app, ops_service;
grant execute on function ops.write_audit(text, text, text, text, uuid, uuid, jsonb, jsonb, inet) to ops_app;
