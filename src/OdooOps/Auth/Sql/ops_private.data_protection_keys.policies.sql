-- ops_private.data_protection_keys: The console's data-protection keys (cookie encryption), read and added by the host as ops_service,
-- which also stores a key of an older version again once its secret part is encrypted (the xml column only).
-- The whole set: ops_private.reset_access takes every privilege and policy away first.
select ops_private.reset_access('ops_private.data_protection_keys');
grant select, insert on ops_private.data_protection_keys to ops_service;
grant update (xml) on ops_private.data_protection_keys to ops_service;

create policy data_protection_keys_service on ops_private.data_protection_keys
    for all to ops_service using (true) with check (true);
