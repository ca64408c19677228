-- Salesforce writes double, currency and percent values the Java way (`1.2345678E7`, `123.0`) and sometimes with
-- more decimals than the field's scale (KB 000212661); custom Number fields are always `double`, even with scale 0.
-- An integer column rejects `123.0`, numeric(p, s) rounds silently: the default tables keep every number exactly.
-- Those tables exist only in databases that applied 002 before job tables moved to jobs/<job>.sql (which now
-- declare numeric themselves), so each change applies only where the table is there.
DO $$
BEGIN
    IF to_regclass('public.salesforce_accounts') IS NOT NULL THEN
        ALTER TABLE public.salesforce_accounts ALTER COLUMN annual_revenue TYPE numeric;
    END IF;
    IF to_regclass('public.salesforce_opportunities') IS NOT NULL THEN
        ALTER TABLE public.salesforce_opportunities
            ALTER COLUMN amount TYPE numeric, ALTER COLUMN probability TYPE numeric,
            ALTER COLUMN discount_pct TYPE numeric, ALTER COLUMN seats TYPE numeric,
            ALTER COLUMN expected_revenue TYPE numeric;
    END IF;
END
$$;
