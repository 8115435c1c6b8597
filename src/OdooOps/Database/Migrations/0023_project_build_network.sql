-- 0023: a project's switch for its builds' outbound network (on by default: pip and submodules need it). Off, the
-- steps of its builds have a loopback only; git's fetch still goes out.
alter table ops.projects add column build_network boolean not null default true;
