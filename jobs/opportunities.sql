-- Target table of jobs/opportunities.yaml, applied by `sfpg migrate` when this job is in the jobs directory.
-- Idempotent: it runs on every migrate. Same DDL as sql/002 (which new databases no longer run).
CREATE TABLE IF NOT EXISTS public.salesforce_opportunities (
    salesforce_id     varchar(18) PRIMARY KEY,
    name              varchar(120) NOT NULL,
    account_id        varchar(18),
    account_name      varchar(255),
    stage_name        varchar(255) NOT NULL,
    amount            numeric,
    probability       numeric,
    close_date        date NOT NULL,
    forecast_category varchar(255),
    is_won            boolean,
    competitor        varchar(100),
    discount_pct      numeric,
    seats             numeric,
    renewal           boolean,
    next_step_due     timestamptz,
    expected_revenue  numeric,
    created_date      timestamptz,
    system_modstamp   timestamptz NOT NULL,
    is_deleted        boolean NOT NULL DEFAULT false,
    synced_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS salesforce_opportunities_account_id_idx ON public.salesforce_opportunities (account_id);
