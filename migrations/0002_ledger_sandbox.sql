-- Double-entry ledger. Every transaction's postings sum to zero per
-- currency: the domain checks it before writing, and a deferred constraint
-- trigger checks it again at commit, whoever writes the rows.
-- amount is signed minor units: debits positive, credits negative.

CREATE TABLE ledger_transactions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key         text        NOT NULL UNIQUE, -- e.g. claim/<id>/refund: a transaction is written once
    kind        text        NOT NULL,        -- refund, seller_charge, ...
    claim_id    text REFERENCES claims (id),
    description text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL
);

CREATE INDEX ledger_transactions_claim_idx ON ledger_transactions (claim_id);
CREATE INDEX ledger_transactions_created_idx ON ledger_transactions (created_at);

CREATE TABLE ledger_postings (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id bigint  NOT NULL REFERENCES ledger_transactions (id),
    account        text    NOT NULL,
    amount         bigint  NOT NULL CHECK (amount <> 0),
    currency       char(3) NOT NULL
);

CREATE INDEX ledger_postings_account_idx ON ledger_postings (account, currency);
CREATE INDEX ledger_postings_transaction_idx ON ledger_postings (transaction_id);

CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tx bigint;
    bad record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        tx := OLD.transaction_id;
    ELSE
        tx := NEW.transaction_id;
    END IF;
    SELECT currency, sum(amount) AS total INTO bad
      FROM ledger_postings WHERE transaction_id = tx
     GROUP BY currency HAVING sum(amount) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: % %', tx, bad.total, bad.currency
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER ledger_postings_balanced
    AFTER INSERT OR UPDATE OR DELETE ON ledger_postings
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();

-- The sandbox payment provider's own records: one row per refund, keyed by
-- the caller's idempotency key, as a real provider keeps them.
CREATE TABLE sandbox_refunds (
    id                text PRIMARY KEY,
    idempotency_key   text        NOT NULL UNIQUE,
    payment_reference text        NOT NULL,
    claim_id          text        NOT NULL,
    amount            bigint      NOT NULL CHECK (amount > 0),
    currency          char(3)     NOT NULL,
    status            text        NOT NULL,
    created_at        timestamptz NOT NULL
);

-- Where a claim's money went: the refund the provider made for it.
ALTER TABLE claims
    ADD COLUMN refund_id text,
    ADD COLUMN refund_provider text,
    ADD COLUMN refunded_at timestamptz,
    ADD COLUMN failure_code text,
    ADD COLUMN failure_reason text,
    ADD COLUMN charged_at timestamptz;
