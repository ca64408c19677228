-- sfpg's own bookkeeping and the default Contact target table. Idempotent: safe to run again.
CREATE SCHEMA IF NOT EXISTS sfpg;

-- One row per job: where the last successful run got to, and a Bulk API job a crashed run left behind.
CREATE TABLE IF NOT EXISTS sfpg.sync_state (
    job_name            text PRIMARY KEY,
    object_name         text NOT NULL,
    target_table        text NOT NULL,
    watermark           timestamptz,          -- largest SystemModstamp loaded
    bulk_job_id         varchar(18),          -- in flight; cleared on commit
    bulk_job_created_at timestamptz,
    last_full_sync_at   timestamptz,
    last_run_id         bigint,
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- One row per run. The first ten columns are the seed's sync_logs; the rest are sfpg's additions.
CREATE TABLE IF NOT EXISTS sfpg.sync_logs (
    id                 bigserial PRIMARY KEY,
    sync_type          varchar(50),           -- 'full' or 'incremental'
    records_processed  integer,
    records_inserted   integer,
    records_updated    integer,
    errors             integer,
    started_at         timestamptz,
    completed_at       timestamptz,
    status             varchar(50),           -- 'success', 'failed', 'cancelled', 'partial'
    error_message      text,
    job_name           text,
    object_name        text,
    records_deleted    integer,
    records_unchanged  integer,
    watermark_before   timestamptz,
    watermark_after    timestamptz,
    salesforce_job_id  varchar(18),
    api_calls_used     integer
);
CREATE INDEX IF NOT EXISTS sync_logs_job_started_idx ON sfpg.sync_logs (job_name, started_at);

-- The default Contact target (jobs/contacts.yaml). Timestamps are timestamptz, unlike the seed.
CREATE TABLE IF NOT EXISTS public.salesforce_contacts (
    id                 bigserial PRIMARY KEY,
    salesforce_id      varchar(18) NOT NULL UNIQUE,
    first_name         varchar(255),
    last_name          varchar(255),
    email              varchar(255),
    phone              varchar(50),
    account_id         varchar(18),
    title              varchar(255),
    department         varchar(255),
    created_date       timestamptz,
    last_modified_date timestamptz,
    system_modstamp    timestamptz NOT NULL,
    is_deleted         boolean NOT NULL DEFAULT false,
    deleted_at         timestamptz,
    synced_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS salesforce_contacts_email_idx ON public.salesforce_contacts (email);
CREATE INDEX IF NOT EXISTS salesforce_contacts_last_modified_date_idx
    ON public.salesforce_contacts (last_modified_date);
