-- Shoppers' identity signals (a device, a payment fingerprint, a shipping
-- address) as orders bring them, so intake can find other shoppers who
-- share one. The platform sends each signal already hashed; the engine
-- keeps only its own digest of that (order.Signal.Digest: SHA-256 over a
-- fixed prefix, the kind and the value), never the value it was given.
--
-- One row per shopper and signal: the first order that brought it names
-- it, later ones add nothing (ON CONFLICT DO NOTHING).
CREATE TABLE buyer_signals (
    kind       text        NOT NULL CHECK (kind IN ('device', 'payment_fingerprint', 'shipping_address')),
    hash       bytea       NOT NULL CHECK (octet_length(hash) = 32),
    shopper_id text        NOT NULL,
    order_id   text        NOT NULL REFERENCES orders (id),
    created_at timestamptz NOT NULL,
    -- Also the index that finds the shoppers behind a signal: (kind, hash).
    PRIMARY KEY (kind, hash, shopper_id)
);

-- Intake reads the claiming shopper's own signals first; with kind and hash
-- in the index that is an index-only scan, and a shopper with no signals
-- costs this one probe.
CREATE INDEX buyer_signals_shopper_idx ON buyer_signals (shopper_id, kind, hash);
