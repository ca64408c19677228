-- Target tables of the shipped accounts and opportunities jobs (jobs/accounts.yaml, jobs/opportunities.yaml).
-- Column types follow Salesforce's describe: ids varchar(18), currency/percent numeric, datetimes timestamptz.
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
    annual_revenue      numeric(18, 0),
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

CREATE TABLE IF NOT EXISTS public.salesforce_opportunities (
    salesforce_id     varchar(18) PRIMARY KEY,
    name              varchar(120) NOT NULL,
    account_id        varchar(18),
    account_name      varchar(255),
    stage_name        varchar(255) NOT NULL,
    amount            numeric(18, 2),
    probability       numeric(3, 0),
    close_date        date NOT NULL,
    forecast_category varchar(255),
    is_won            boolean,
    competitor        varchar(100),
    discount_pct      numeric(5, 2),
    seats             integer,
    renewal           boolean,
    next_step_due     timestamptz,
    expected_revenue  numeric(18, 2),
    created_date      timestamptz,
    system_modstamp   timestamptz NOT NULL,
    is_deleted        boolean NOT NULL DEFAULT false,
    synced_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS salesforce_opportunities_account_id_idx ON public.salesforce_opportunities (account_id);
