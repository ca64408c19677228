-- Target table of jobs/accounts.yaml, applied by `sfpg migrate` when this job is in the jobs directory.
-- Idempotent: it runs on every migrate. Same DDL as sql/002 (which new databases no longer run).
CREATE TABLE IF NOT EXISTS public.salesforce_accounts (
    salesforce_id       varchar(18) PRIMARY KEY,
    name                varchar(255) NOT NULL,
    type                varchar(255),
    parent_id           varchar(18),
    billing_street      text,
    billing_city        varchar(40),
    billing_country     varchar(80),
    phone               varchar(40),
    website             varchar(255),
    industry            varchar(255),
    annual_revenue      numeric,
    number_of_employees integer,
    rating              varchar(255),
    description         text,
    customer_since      date,
    is_strategic        boolean,
    owner_id            varchar(18),
    created_date        timestamptz,
    last_modified_date  timestamptz,
    system_modstamp     timestamptz NOT NULL,
    is_deleted          boolean NOT NULL DEFAULT false,
    deleted_at          timestamptz,
    synced_at           timestamptz NOT NULL DEFAULT now()
);
