-- An advisory's history: every change of its status (opened, suppressed — with until and why —, unsuppressed,
-- resolved) with who made it (null: the scan). Written by the advisories' own trigger, whoever changes the row.
create table ops.advisory_events (
    id                bigint generated always as identity primary key,
    advisory_id       uuid not null references ops.advisories (id) on delete cascade,
    project_id        uuid not null,
    event             text not null check (event in ('opened', 'suppressed', 'unsuppressed', 'resolved')),
    actor_user_id     uuid references registry.users (id) on delete set null,
    suppressed_until  timestamptz,
    reason            text,
    created_at        timestamptz not null default now()
);
alter table ops.advisory_events enable row level security;
create index advisory_events_advisory_idx on ops.advisory_events (advisory_id, id);

-- What is known of the advisories already there: when each opened, the suppressions and resolutions people made
-- (their audit rows name who and when), and resolutions by the scan.
insert into ops.advisory_events (advisory_id, project_id, event, created_at)
select a.id, a.project_id, 'opened', a.first_seen_at from ops.advisories a;

insert into ops.advisory_events (advisory_id, project_id, event, actor_user_id, suppressed_until, reason, created_at)
select a.id, a.project_id, case l.action when 'advisory.suppress' then 'suppressed' else 'resolved' end,
       case when exists (select 1 from registry.users u where u.id = l.actor_user_id) then l.actor_user_id end,
       case when l.action = 'advisory.suppress' then (l.after ->> 'suppressed_until')::timestamptz end,
       case when l.action = 'advisory.suppress' then l.after ->> 'suppress_reason' end,
       l.created_at
  from ops.audit_log l
  join ops.advisories a on a.id::text = l.target_id
 where l.target_type = 'advisory' and l.action in ('advisory.suppress', 'advisory.resolve')
 order by l.id;

insert into ops.advisory_events (advisory_id, project_id, event, created_at)
select a.id, a.project_id, 'resolved', a.resolved_at
  from ops.advisories a
 where a.status = 'resolved' and a.resolved_at is not null
   and not exists (select 1 from ops.advisory_events e where e.advisory_id = a.id and e.event = 'resolved');

-- The audit log is read newest first by organisation, page after page (keyset on id).
create index audit_log_org_id_idx on ops.audit_log (org_id, id desc);
