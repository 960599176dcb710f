-- Every single amount the engine stores is at most money.MaxAmount: 10^12
-- minor units in every currency (domain/money/bound.go says how it was
-- chosen). The engine refuses a larger one before it writes; these
-- constraints make the database refuse one too, however it is written.
--
-- A database that already holds a larger amount (written before the bound)
-- must still start: each constraint is added NOT VALID, which holds every
-- row written from now on, then validated where the rows already allow.
-- Where they do not, the constraint stays NOT VALID and a warning names it;
-- docs/operations.md ("Amounts above the maximum") says how to find those
-- rows and validate it once they are settled.

ALTER TABLE orders ADD CONSTRAINT orders_amount_max
    CHECK (amount <= 1000000000000) NOT VALID;
ALTER TABLE claims ADD CONSTRAINT claims_amount_max
    CHECK (amount <= 1000000000000) NOT VALID;
ALTER TABLE seller_recoveries ADD CONSTRAINT seller_recoveries_amount_max
    CHECK (amount <= 1000000000000) NOT VALID;
ALTER TABLE sandbox_refunds ADD CONSTRAINT sandbox_refunds_amount_max
    CHECK (amount <= 1000000000000) NOT VALID;
-- A posting moves one claim's or one recovery's amount, debit or credit.
ALTER TABLE ledger_postings ADD CONSTRAINT ledger_postings_amount_max
    CHECK (amount BETWEEN -1000000000000 AND 1000000000000) NOT VALID;

DO $$
DECLARE
    c record;
BEGIN
    FOR c IN
        SELECT conrelid::regclass AS tbl, conname
          FROM pg_constraint
         WHERE conname IN ('orders_amount_max', 'claims_amount_max', 'seller_recoveries_amount_max',
                           'sandbox_refunds_amount_max', 'ledger_postings_amount_max')
         ORDER BY conname
    LOOP
        BEGIN
            EXECUTE format('ALTER TABLE %s VALIDATE CONSTRAINT %I', c.tbl, c.conname);
        EXCEPTION WHEN check_violation THEN
            RAISE WARNING '% holds amounts above 1000000000000 minor units; % stays NOT VALID until they are settled (docs/operations.md)',
                c.tbl, c.conname;
        END;
    END LOOP;
END
$$;
