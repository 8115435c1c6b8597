-- Where a host name goes, for serve's instance proxy: exactly one of (p_project_label, p_branch_label) — the labels
-- of <branch>.<project>.<instances domain> — or p_domain, a custom domain, matched exactly (never by suffix: a name
-- belongs to one branch of one project, and projects.host_label and instance_domains.name are unique across all
-- organisations). No row: nobody owns the name. A row: the branch (archived projects and branches own nothing),
-- whether the name is verified (labels always are), and its current instance, if any: state, reason and where its
-- ports are (address null when no runner holds it, or when an organisation's runner advertised none: never guess a
-- host; loopback only for the embedded runner and shared runners, which the server's operator runs).
-- SECURITY DEFINER for the service login, which has no table privileges; it sees names and ports, nothing else.
create or replace function ops.resolve_instance_host(p_project_label text, p_branch_label text, p_domain text)
returns table (branch_id uuid, verified boolean, instance_id uuid, state text, reason text, address text,
               http_port int, gevent_port int)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    with owner as (
        select b.id, b.project_id, true as verified
          from ops.projects p
          join ops.branches b on b.project_id = p.id
         where p_domain is null
           and p.host_label = p_project_label
           and b.host_label = p_branch_label
           and p.archived_at is null
           and b.archived_at is null
        union all
        select b.id, b.project_id, d.verified_at is not null
          from ops.instance_domains d
          join ops.branches b on b.id = d.branch_id and b.project_id = d.project_id
          join ops.projects p on p.id = b.project_id
         where d.name = p_domain
           and p.archived_at is null
           and b.archived_at is null
    )
    select o.id, o.verified, i.id, i.state, i.reason,
           case when r.id is null then null
                when r.instance_address is not null then r.instance_address
                when r.embedded or r.org_id is null then '127.0.0.1' end,
           i.http_port, i.gevent_port
      from owner o
      left join ops.instances i on i.branch_id = o.id and i.project_id = o.project_id and i.is_current and i.retired_at is null
      left join ops.runners r on r.id = i.runner_id
     limit 1
$$;
revoke all on function ops.resolve_instance_host(text, text, text) from public, ops_app, ops_service;
grant execute on function ops.resolve_instance_host(text, text, text) to ops_service;
