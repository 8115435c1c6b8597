-- An org inserted without a slug gets one made from its name (see registry.orgs_fill_slug).
create or replace trigger orgs_fill_slug
    before insert on registry.orgs
    for each row execute function registry.orgs_fill_slug();
