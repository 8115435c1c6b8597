-- OdooOps' neutralisation of a restored Odoo database (staging, development), run by the runner as the project's
-- role. Before 16.0 Odoo has no `odoo-bin neutralize`: odooops_neutralize(url, true) does what it would (and a bit
-- more); from 16.0 Odoo's command runs first and odooops_neutralize(url, false) only sets the URL, which it leaves.
-- odooops_neutralization_check(url) is the check after either. Functions in pg_temp: gone with the session.
-- Tolerant of what a version or its installed modules lack: a missing table or column is skipped, never an error.

create function pg_temp.odooops_has(p_table text, p_column text default null) returns boolean
language sql stable as $$
    select case when p_column is null then to_regclass('public.' || quote_ident(p_table)) is not null
           else exists (select 1 from pg_attribute
                         where attrelid = to_regclass('public.' || quote_ident(p_table)) and attname = p_column and not attisdropped) end
$$;

-- The auto-vacuum cron, kept: by its XML id where ir_model_data has it, else by name (cron_name from 11.0, name before).
create function pg_temp.odooops_kept_crons() returns setof int
language plpgsql stable as $$
begin
    if pg_temp.odooops_has('ir_model_data') then
        return query select res_id from public.ir_model_data
                      where module = 'base' and name = 'autovacuum_job' and model = 'ir.cron' and res_id is not null;
        if found then return; end if;
    end if;
    if pg_temp.odooops_has('ir_cron', 'cron_name') then
        return query execute 'select id from public.ir_cron where cron_name::text = $1' using 'Base: Auto-vacuum internal data';
    elsif pg_temp.odooops_has('ir_cron', 'name') then
        return query execute 'select id from public.ir_cron where name::text = $1' using 'Base: Auto-vacuum internal data';
    end if;
end $$;

create function pg_temp.odooops_set_param(p_key text, p_value text) returns void
language plpgsql as $$
begin
    update public.ir_config_parameter set value = p_value where key = p_key;
    if not found then
        insert into public.ir_config_parameter (key, value) values (p_key, p_value);
    end if;
end $$;

-- A column set where a condition (OdooOps' own text, never a user's) holds: the rows changed; null without the column.
create function pg_temp.odooops_set(p_table text, p_column text, p_value text, p_where text) returns bigint
language plpgsql as $$
declare
    v_count bigint;
begin
    if not pg_temp.odooops_has(p_table, p_column) then return null; end if;
    execute format('update public.%I set %I = %L where %s', p_table, p_column, p_value, p_where);
    get diagnostics v_count = row_count;
    return v_count;
end $$;

-- The rows where a condition holds; null without the column.
create function pg_temp.odooops_count(p_table text, p_column text, p_where text) returns bigint
language plpgsql as $$
declare
    v_count bigint;
begin
    if not pg_temp.odooops_has(p_table, p_column) then return null; end if;
    execute format('select count(*) from public.%I where %s', p_table, p_where) into v_count;
    return v_count;
end $$;

create function pg_temp.odooops_neutralize(p_base_url text, p_all boolean)
returns table (item text, changed bigint)
language plpgsql as $$
declare
    v_columns text;
    v_values text;
begin
    if p_all then
        changed := pg_temp.odooops_set('ir_mail_server', 'active', 'false', 'active and smtp_host is distinct from ''invalid''');
        if changed is not null then
            item := 'outgoing mail servers deactivated'; return next;
            -- A catch-all as Odoo's own: without an active server Odoo would fall back to its --smtp options.
            if not exists (select 1 from public.ir_mail_server where active and smtp_host = 'invalid') then
                select string_agg(quote_ident(col), ', '), string_agg(quote_literal(val), ', ') into v_columns, v_values
                  from (values ('name', 'neutralization - disable emails'), ('smtp_host', 'invalid'), ('smtp_port', '1025'),
                               ('smtp_encryption', 'none'), ('smtp_authentication', 'login'), ('active', 'true')) v (col, val)
                 where pg_temp.odooops_has('ir_mail_server', col);
                execute format('insert into public.ir_mail_server (%s) values (%s)', v_columns, v_values);
                item := 'catch-all mail server added (invalid:1025)'; changed := 1; return next;
            end if;
        end if;
        -- Payment providers disabled, as Odoo 16's own neutralisation does: before 16.0 a provider's "test" state
        -- keeps its keys, and some (Stripe) charge for real with a live key whatever the state.
        return query
            select v.item, v.n from (values
                ('incoming mail servers deactivated', pg_temp.odooops_set('fetchmail_server', 'active', 'false', 'active')),
                ('scheduled actions deactivated (the auto-vacuum kept)',
                    pg_temp.odooops_set('ir_cron', 'active', 'false', 'active and id not in (select pg_temp.odooops_kept_crons())')),
                ('payment_provider: providers disabled', pg_temp.odooops_set('payment_provider', 'state', 'disabled', 'state = ''enabled''')),
                ('payment_acquirer: providers disabled', pg_temp.odooops_set('payment_acquirer', 'state', 'disabled', 'state = ''enabled''')),
                ('payment_acquirer: providers put in test mode',
                    pg_temp.odooops_set('payment_acquirer', 'environment', 'test', 'environment = ''prod''')),
                ('delivery carriers put in test mode', pg_temp.odooops_set('delivery_carrier', 'prod_environment', 'false', 'prod_environment'))
            ) v (item, n) where v.n is not null;
        perform pg_temp.odooops_set_param('database.is_neutralized', 'true');
        item := 'database.is_neutralized set'; changed := 1; return next;
    end if;
    perform pg_temp.odooops_set_param('web.base.url', p_base_url);
    -- Frozen, or the first admin to log in would write their own address back.
    perform pg_temp.odooops_set_param('web.base.url.freeze', 'True');
    item := 'web.base.url set to ' || p_base_url; changed := 1; return next;
end $$;

-- One check from a count: none is a pass; null (no such table in this version) is a pass too.
create function pg_temp.odooops_verdict(p_name text, p_count bigint, p_ok text, p_failed text, p_table text)
returns table (name text, passed boolean, detail text)
language sql immutable as $$
    select p_name, coalesce(p_count, 0) = 0,
           case when p_count is null then 'no ' || p_table || ' table' when p_count = 0 then p_ok else p_count || ' ' || p_failed end
$$;

create function pg_temp.odooops_neutralization_check(p_base_url text)
returns table (name text, passed boolean, detail text)
language plpgsql as $$
declare
    v_value text;
begin
    return query select * from pg_temp.odooops_verdict('outgoing_mail',
        pg_temp.odooops_count('ir_mail_server', 'active', 'active and smtp_host is distinct from ''invalid'''),
        'no active outgoing mail server but the catch-all', 'active outgoing mail server(s)', 'ir_mail_server');
    return query select * from pg_temp.odooops_verdict('incoming_mail', pg_temp.odooops_count('fetchmail_server', 'active', 'active'),
        'no active incoming mail server', 'active incoming mail server(s)', 'fetchmail_server');
    return query select * from pg_temp.odooops_verdict('crons',
        pg_temp.odooops_count('ir_cron', 'active', 'active and id not in (select pg_temp.odooops_kept_crons())'),
        'no active scheduled action but the auto-vacuum', 'active scheduled action(s) besides the auto-vacuum', 'ir_cron');
    return query select * from pg_temp.odooops_verdict('payment_providers',
        (select sum(n)::bigint from (values (pg_temp.odooops_count('payment_provider', 'state', 'state = ''enabled''')),
                                            (pg_temp.odooops_count('payment_acquirer', 'state', 'state = ''enabled''')),
                                            (pg_temp.odooops_count('payment_acquirer', 'environment', 'environment = ''prod'''))) v (n)),
        'no payment provider enabled for real payments', 'payment provider(s) enabled for real payments', 'payment provider');
    return query select * from pg_temp.odooops_verdict('delivery_carriers',
        pg_temp.odooops_count('delivery_carrier', 'prod_environment', 'prod_environment'),
        'no delivery carrier in production mode', 'delivery carrier(s) in production mode', 'delivery_carrier');

    name := 'web_base_url';
    select value into v_value from public.ir_config_parameter where key = 'web.base.url';
    passed := v_value is not distinct from p_base_url;
    detail := 'web.base.url is ' || coalesce(v_value, 'unset') || case when passed then '' else ', not ' || p_base_url end;
    return next;

    name := 'neutralized_flag';
    select value into v_value from public.ir_config_parameter where key = 'database.is_neutralized';
    passed := lower(coalesce(v_value, '')) in ('true', '1');
    detail := case when passed then 'database.is_neutralized is set' else 'database.is_neutralized is not set' end;
    return next;
end $$;
