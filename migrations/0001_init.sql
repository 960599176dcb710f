-- Reference data fed by the platform: sellers and their risk profile,
-- orders and their lines. Money is BIGINT minor units with a CHAR(3)
-- ISO 4217 currency, everywhere.

CREATE TABLE sellers (
    id             text PRIMARY KEY,
    name           text        NOT NULL,
    risk_score     smallint    NOT NULL CHECK (risk_score BETWEEN 0 AND 100),
    verified       boolean     NOT NULL DEFAULT false,
    stripe_account text,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);

CREATE TABLE orders (
    id                text PRIMARY KEY,
    buyer_id          text        NOT NULL,
    seller_id         text        NOT NULL REFERENCES sellers (id),
    currency          char(3)     NOT NULL,
    amount            bigint      NOT NULL CHECK (amount > 0),
    items             jsonb       NOT NULL,
    payment_provider  text        NOT NULL,
    payment_reference text        NOT NULL,
    paid_at           timestamptz,
    delivered_at      timestamptz,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    CHECK (delivered_at IS NULL OR (paid_at IS NOT NULL AND delivered_at >= paid_at))
);

-- A shopper's account age is measured from their first paid order.
CREATE INDEX orders_buyer_paid_idx ON orders (buyer_id, paid_at);

-- Claims. The decision (outcome, reasons, policy version and the facts it
-- used) is stored with the claim so any decision can be replayed later.
CREATE TABLE claims (
    id                      text PRIMARY KEY,
    order_id                text        NOT NULL REFERENCES orders (id),
    shopper_id              text        NOT NULL,
    seller_id               text        NOT NULL REFERENCES sellers (id),
    reason                  text        NOT NULL,
    status                  text        NOT NULL,
    amount                  bigint      NOT NULL CHECK (amount > 0),
    currency                char(3)     NOT NULL,
    items                   jsonb       NOT NULL,
    description             text        NOT NULL,
    evidence                jsonb       NOT NULL,
    decision_outcome        text        NOT NULL,
    decision_reasons        jsonb       NOT NULL,
    decision_policy_version text        NOT NULL,
    decision_tier           text        NOT NULL,
    decision_facts          jsonb       NOT NULL,
    decided_at              timestamptz NOT NULL,
    version                 bigint      NOT NULL,
    created_at              timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL
);

CREATE INDEX claims_order_idx ON claims (order_id);
CREATE INDEX claims_shopper_idx ON claims (shopper_id, id);
CREATE INDEX claims_seller_idx ON claims (seller_id, id);
CREATE INDEX claims_status_idx ON claims (status, id);

-- The timeline: append-only, one sequence per claim.
CREATE TABLE claim_events (
    claim_id    text        NOT NULL REFERENCES claims (id),
    seq         integer     NOT NULL,
    type        text        NOT NULL,
    from_status text,
    to_status   text        NOT NULL,
    actor_kind  text        NOT NULL,
    actor_id    text        NOT NULL,
    note        text        NOT NULL DEFAULT '',
    data        jsonb,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (claim_id, seq)
);

-- Idempotency-Key: the first response to a (caller, key) is stored with a
-- hash of the request; a replay gets the stored response, another request
-- under the same key is refused.
CREATE TABLE idempotency_keys (
    scope         text        NOT NULL,
    key           text        NOT NULL,
    request_hash  bytea       NOT NULL,
    status_code   integer,
    response_body bytea,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);
