-- 0022: a build runs with what was true when it was queued; a git push is applied once.
--
-- ops_private.build_snapshots: the stage of the build's branch and that stage's variables (secrets included) at the
-- moment the build was queued, taken by the builds_enqueue trigger and read by the claim, so a variable changed or a
-- branch moved to production afterwards does not reach a build already waiting. Owner-only (the app cannot read
-- secrets through it); dropped when the build ends. Builds already queued or running get theirs here.
--
-- ops.builds.commit_at: the pushed commit's time as the push payload gives it (null for other builds), so a push
-- whose head is older than a commit the branch already has does not cancel newer builds.
--
-- ops_private.webhook_deliveries: the delivery ids (GitHub X-GitHub-Delivery, GitLab Idempotency-Key or
-- X-Gitlab-Event-UUID) and GitHub body digests of the pushes applied in the last 24 hours: the same delivery again is
-- answered, not applied. Pruned by the webhook_deliveries job.
--
-- ops.trigger_build and ops.webhook_push take the commit's time (and the push its delivery): their files define the
-- new signatures. (A database migrated from empty has neither yet: the files come after the migrations.)

create table ops_private.build_snapshots (
    build_id      uuid primary key references ops.builds (id) on delete cascade,
    stage         text not null check (stage in ('development', 'staging', 'production')),
    env           jsonb not null default '{}',
    secret_names  text[] not null default '{}',
    taken_at      timestamptz not null default now()
);
alter table ops_private.build_snapshots enable row level security;
revoke all on ops_private.build_snapshots from public;

insert into ops_private.build_snapshots (build_id, stage, env, secret_names)
select b.id, br.stage,
       coalesce(jsonb_object_agg(v.name, v.value) filter (where v.name is not null), '{}'),
       coalesce(array_agg(v.name order by v.name) filter (where v.is_secret), '{}')
  from ops.builds b
  join ops.branches br on br.id = b.branch_id
  left join ops.env_vars v on v.project_id = b.project_id and v.stage = br.stage
 where b.status in ('queued', 'running')
 group by b.id, br.stage;

alter table ops.builds add column commit_at timestamptz;

create table ops_private.webhook_deliveries (
    project_id   uuid not null references ops.projects (id) on delete cascade,
    provider     text not null check (provider in ('github', 'gitlab')),
    delivery_id  text check (char_length(delivery_id) between 1 and 200),
    body_sha256  bytea check (octet_length(body_sha256) = 32),
    received_at  timestamptz not null default now(),
    check (delivery_id is not null or body_sha256 is not null)
);
alter table ops_private.webhook_deliveries enable row level security;
revoke all on ops_private.webhook_deliveries from public;
create unique index webhook_deliveries_delivery_idx on ops_private.webhook_deliveries (project_id, provider, delivery_id);
create unique index webhook_deliveries_body_idx on ops_private.webhook_deliveries (project_id, provider, body_sha256);
create index webhook_deliveries_received_idx on ops_private.webhook_deliveries (received_at);

drop function if exists ops.trigger_build(uuid, uuid, text, text, integer, text, boolean, text, text, inet);
drop function if exists ops.webhook_push(uuid, text, text, text, text, boolean, boolean, integer, inet);
