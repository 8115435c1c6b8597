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

create function pg_temp.odooops_neutralize(p_base_url text, p_all boolean)
returns table (item text, changed bigint)
language plpgsql as $$
declare
    v_columns text;
    v_values text;
    v_table text;
begin
    if p_all then
        if pg_temp.odooops_has('ir_mail_server', 'active') then
            update public.ir_mail_server set active = false where active and smtp_host is distinct from 'invalid';
            get diagnostics changed = row_count;
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
        if pg_temp.odooops_has('fetchmail_server', 'active') then
            update public.fetchmail_server set active = false where active;
            get diagnostics changed = row_count;
            item := 'incoming mail servers deactivated'; return next;
        end if;
        if pg_temp.odooops_has('ir_cron', 'active') then
            update public.ir_cron set active = false where active and id not in (select pg_temp.odooops_kept_crons());
            get diagnostics changed = row_count;
            item := 'scheduled actions deactivated (the auto-vacuum kept)'; return next;
        end if;
        -- Disabled, as Odoo 16's own neutralisation does: before 16.0 a provider's "test" state keeps its keys, and
        -- some (Stripe) charge for real with a live key whatever the state.
        foreach v_table in array array['payment_provider', 'payment_acquirer'] loop
            if pg_temp.odooops_has(v_table, 'state') then
                execute format('update public.%I set state = %L where state = %L', v_table, 'disabled', 'enabled');
                get diagnostics changed = row_count;
                item := v_table || ': providers disabled'; return next;
            elsif pg_temp.odooops_has(v_table, 'environment') then
                execute format('update public.%I set environment = %L where environment = %L', v_table, 'test', 'prod');
                get diagnostics changed = row_count;
                item := v_table || ': providers put in test mode'; return next;
            end if;
        end loop;
        if pg_temp.odooops_has('delivery_carrier', 'prod_environment') then
            update public.delivery_carrier set prod_environment = false where prod_environment;
            get diagnostics changed = row_count;
            item := 'delivery carriers put in test mode'; return next;
        end if;
        perform pg_temp.odooops_set_param('database.is_neutralized', 'true');
        item := 'database.is_neutralized set'; changed := 1; return next;
    end if;
    perform pg_temp.odooops_set_param('web.base.url', p_base_url);
    -- Frozen, or the first admin to log in would write their own address back.
    perform pg_temp.odooops_set_param('web.base.url.freeze', 'True');
    item := 'web.base.url set to ' || p_base_url; changed := 1; return next;
end $$;

create function pg_temp.odooops_neutralization_check(p_base_url text)
returns table (name text, passed boolean, detail text)
language plpgsql as $$
declare
    v_count bigint;
    v_table text;
    v_value text;
begin
    name := 'outgoing_mail';
    if pg_temp.odooops_has('ir_mail_server', 'active') then
        select count(*) into v_count from public.ir_mail_server where active and smtp_host is distinct from 'invalid';
        passed := v_count = 0;
        detail := case when passed then 'no active outgoing mail server but the catch-all'
                       else v_count || ' active outgoing mail server(s)' end;
    else
        passed := true; detail := 'no ir_mail_server table';
    end if;
    return next;

    name := 'incoming_mail';
    if pg_temp.odooops_has('fetchmail_server', 'active') then
        select count(*) into v_count from public.fetchmail_server where active;
        passed := v_count = 0;
        detail := case when passed then 'no active incoming mail server' else v_count || ' active incoming mail server(s)' end;
    else
        passed := true; detail := 'no fetchmail_server table';
    end if;
    return next;

    name := 'crons';
    if pg_temp.odooops_has('ir_cron', 'active') then
        select count(*) into v_count from public.ir_cron where active and id not in (select pg_temp.odooops_kept_crons());
        passed := v_count = 0;
        detail := case when passed then 'no active scheduled action but the auto-vacuum'
                       else v_count || ' active scheduled action(s) besides the auto-vacuum' end;
    else
        passed := true; detail := 'no ir_cron table';
    end if;
    return next;

    name := 'payment_providers';
    passed := true; detail := 'no payment provider table';
    foreach v_table in array array['payment_provider', 'payment_acquirer'] loop
        if pg_temp.odooops_has(v_table, 'state') then
            execute format('select count(*) from public.%I where state = %L', v_table, 'enabled') into v_count;
        elsif pg_temp.odooops_has(v_table, 'environment') then
            execute format('select count(*) from public.%I where environment = %L', v_table, 'prod') into v_count;
        else
            continue;
        end if;
        if v_count > 0 then
            passed := false; detail := v_count || ' payment provider(s) of ' || v_table || ' enabled for real payments';
        elsif passed then
            detail := 'no payment provider enabled for real payments';
        end if;
    end loop;
    return next;

    name := 'delivery_carriers';
    if pg_temp.odooops_has('delivery_carrier', 'prod_environment') then
        select count(*) into v_count from public.delivery_carrier where prod_environment;
        passed := v_count = 0;
        detail := case when passed then 'no delivery carrier in production mode' else v_count || ' delivery carrier(s) in production mode' end;
    else
        passed := true; detail := 'no delivery_carrier table';
    end if;
    return next;

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
