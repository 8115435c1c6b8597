-- Notifications: an organisation's channels (an outgoing webhook, a Slack-compatible incoming webhook, e-mail), the
-- events written by the changes they announce, in the same transaction, and one delivery per event and channel.

-- A channel: where to (target: the webhook's URL, the Slack webhook's URL as shown — the URL itself is a secret — or
-- the e-mail recipients), what to send (events, projects: null for every one, the least advisory severity), and how
-- it has been doing (consecutive failed attempts, failing since). E-mail may name its own SMTP server (else the
-- server's OPS_SMTP_* settings). Written only through the notification functions; org owners and admins read it.
create table ops.notification_channels (
    id                    uuid primary key default gen_random_uuid(),
    org_id                uuid not null references registry.orgs (id) on delete cascade,
    name                  text not null check (char_length(name) between 1 and 100),
    kind                  text not null check (kind in ('webhook', 'slack', 'email')),
    target                text not null check (char_length(target) between 1 and 2000),
    smtp_host             text check (char_length(smtp_host) between 1 and 253),
    smtp_port             int check (smtp_port between 1 and 65535),
    smtp_tls              text check (smtp_tls in ('auto', 'starttls', 'tls', 'none')),
    smtp_username         text check (char_length(smtp_username) between 1 and 320),
    smtp_from             text check (char_length(smtp_from) between 3 and 320),
    events                text[] not null check (cardinality(events) between 1 and 32),
    project_ids           uuid[] check (cardinality(project_ids) between 1 and 500),
    min_severity          text not null default 'warning' check (min_severity in ('info', 'warning', 'critical')),
    enabled               boolean not null default true,
    consecutive_failures  int not null default 0 check (consecutive_failures >= 0),
    failing_since         timestamptz,
    last_delivery_at      timestamptz,
    last_success_at       timestamptz,
    last_error            text check (char_length(last_error) <= 2000),
    secret_set_at         timestamptz,
    created_by            uuid references registry.users (id) on delete set null,
    created_at            timestamptz not null default now(),
    updated_at            timestamptz not null default now(),
    unique (org_id, name),
    constraint notification_channels_smtp_only_email check (kind = 'email' or (smtp_host is null and smtp_username is null and smtp_from is null))
);
alter table ops.notification_channels enable row level security;
create index notification_channels_org_idx on ops.notification_channels (org_id) where enabled;

-- A channel's secret, encrypted by the server (data protection, purpose OdooOps.NotificationChannels.v1, bound to the
-- channel): the webhook's signing secret, the Slack webhook's URL, the SMTP password. Owner-only: set through
-- ops.save_notification_channel, read by the delivery worker's claim.
create table ops_private.notification_channel_secrets (
    channel_id  uuid primary key references ops.notification_channels (id) on delete cascade,
    secret      text not null check (char_length(secret) between 1 and 100000),
    set_at      timestamptz not null default now()
);
alter table ops_private.notification_channel_secrets enable row level security;
revoke all on ops_private.notification_channel_secrets from public;

-- The outbox: an event as the change that caused it wrote it (the source tables' triggers), with what the payload says
-- about it. Written only when a channel wants it. Owner-only; deliveries carry what the log shows.
create table ops_private.notification_events (
    id          uuid primary key default gen_random_uuid(),
    org_id      uuid not null references registry.orgs (id) on delete cascade,
    project_id  uuid references ops.projects (id) on delete cascade,
    event       text not null check (event ~ '^[a-z_]+\.[a-z_]+$'),
    severity    text check (severity in ('info', 'warning', 'critical')),
    summary     text not null check (char_length(summary) between 1 and 500),
    data        jsonb not null,
    created_at  timestamptz not null default now()
);
alter table ops_private.notification_events enable row level security;
revoke all on ops_private.notification_events from public;
create index notification_events_created_idx on ops_private.notification_events (created_at);

-- One event sent to one channel, at most once (unique): pending until sent (next_attempt_at; a worker's lease while it
-- sends), then delivered, or failed once the attempts ran out. The last attempt's answer is kept for the log.
create table ops.notification_deliveries (
    id               uuid primary key default gen_random_uuid(),
    org_id           uuid not null references registry.orgs (id) on delete cascade,
    channel_id       uuid not null references ops.notification_channels (id) on delete cascade,
    event_id         uuid not null references ops_private.notification_events (id) on delete cascade,
    event            text not null,
    project_id       uuid references ops.projects (id) on delete cascade,
    summary          text not null check (char_length(summary) between 1 and 500),
    status           text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
    attempts         int not null default 0 check (attempts >= 0),
    next_attempt_at  timestamptz,
    lease_id         uuid,
    lease_until      timestamptz,
    last_attempt_at  timestamptz,
    response_code    int check (response_code between 100 and 999),
    error            text check (char_length(error) <= 2000),
    duration_ms      int check (duration_ms >= 0),
    delivered_at     timestamptz,
    redelivered_at   timestamptz,
    redelivered_by   uuid references registry.users (id) on delete set null,
    created_at       timestamptz not null default now(),
    unique (event_id, channel_id),
    constraint notification_deliveries_pending_due check (status <> 'pending' or next_attempt_at is not null)
);
alter table ops.notification_deliveries enable row level security;
create index notification_deliveries_due_idx on ops.notification_deliveries (next_attempt_at) where status = 'pending';
create index notification_deliveries_channel_idx on ops.notification_deliveries (channel_id, created_at desc);
create index notification_deliveries_created_idx on ops.notification_deliveries (created_at);

-- The branches whose current instance is down (announced as instance.down), until it runs again (instance.recovered).
create table ops_private.notification_down_branches (
    branch_id    uuid primary key references ops.branches (id) on delete cascade,
    instance_id  uuid not null,
    state        text not null,
    since        timestamptz not null default now()
);
alter table ops_private.notification_down_branches enable row level security;
revoke all on ops_private.notification_down_branches from public;
