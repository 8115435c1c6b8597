-- An organisation's default Odoo version: what a new project gets when its creator names none (ops.create_project).
alter table registry.orgs
    add column default_odoo_version text not null default '19.0'
        check (default_odoo_version ~ '^(saas-)?[0-9]{1,3}\.[0-9]{1,2}$');
