-- Finance: what sellers paid back, reconciliation runs and their items,
-- and the indexes the period reports read by.

-- Money a seller owed that came back, and how; its ledger transaction is
-- written in the same transaction. A method's reference (the payout, the
-- transfer reversal, the payment) is recorded once per seller.
CREATE TABLE seller_recoveries (
    id          text PRIMARY KEY,
    seller_id   text        NOT NULL REFERENCES sellers (id),
    amount      bigint      NOT NULL CHECK (amount > 0),
    currency    char(3)     NOT NULL,
    method      text        NOT NULL,
    reference   text        NOT NULL,
    note        text        NOT NULL DEFAULT '',
    recorded_by text        NOT NULL,
    recorded_at timestamptz NOT NULL,
    ledger_key  text        NOT NULL UNIQUE REFERENCES ledger_transactions (key),
    CONSTRAINT seller_recoveries_reference_key UNIQUE (seller_id, method, reference)
);

-- Chargebacks by period, and reconciliation by refund time, on both
-- sides.
CREATE INDEX claims_charged_at_idx ON claims (charged_at, id) WHERE charged_at IS NOT NULL;
CREATE INDEX claims_refunded_at_idx ON claims (refunded_at) WHERE refunded_at IS NOT NULL;
CREATE INDEX sandbox_refunds_created_idx ON sandbox_refunds (created_at);
CREATE INDEX sandbox_refunds_claim_idx ON sandbox_refunds (claim_id);

-- One reconciliation of a period: queued by finance or by the daily
-- schedule, worked by a job, then holding its summary.
CREATE TABLE reconciliation_runs (
    id               text PRIMARY KEY,
    period_from      timestamptz NOT NULL,
    period_to        timestamptz NOT NULL,
    trigger          text        NOT NULL,
    requested_by     text        NOT NULL,
    status           text        NOT NULL,
    providers        text[]      NOT NULL,
    matched          integer     NOT NULL DEFAULT 0,
    exceptions       integer     NOT NULL DEFAULT 0,
    open_exceptions  integer     NOT NULL DEFAULT 0 CHECK (open_exceptions >= 0),
    provider_refunds integer     NOT NULL DEFAULT 0,
    foreign_refunds  integer     NOT NULL DEFAULT 0,
    summary          jsonb,
    error            text,
    created_at       timestamptz NOT NULL,
    started_at       timestamptz,
    finished_at      timestamptz,
    CHECK (period_to > period_from)
);

-- The schedule reconciles each day once, however many workers run it.
CREATE UNIQUE INDEX reconciliation_runs_scheduled_idx ON reconciliation_runs (period_from, period_to)
    WHERE trigger = 'schedule';

-- A run's items: one per matched claim, one per exception.
CREATE TABLE reconciliation_items (
    run_id            text    NOT NULL REFERENCES reconciliation_runs (id),
    seq               integer NOT NULL,
    kind              text    NOT NULL,
    claim_id          text,
    provider          text,
    refund_id         text,
    claim_status      text,
    claim_amount      bigint,
    claim_currency    char(3),
    provider_status   text,
    provider_amount   bigint,
    provider_currency char(3),
    ledger_amount     bigint,
    ledger_currency   char(3),
    detail            text    NOT NULL DEFAULT '',
    resolved_at       timestamptz,
    resolved_by       text,
    resolution_note   text,
    PRIMARY KEY (run_id, seq)
);

CREATE INDEX reconciliation_items_exceptions_idx ON reconciliation_items (run_id, seq)
    WHERE kind <> 'matched';
