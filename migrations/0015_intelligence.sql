-- Counterfeit intelligence: what the engine learns from counterfeit claims
-- it refunded and charged to the seller, for brands' rights holders and
-- for enforcement. See docs/intelligence.md.

-- What the platform feeds about a seller (registration, warehouse,
-- payment account), already hashed by the platform; the engine keeps only
-- its own digest (seller.Signal.Digest), never the value it was given.
CREATE TABLE seller_signals (
    seller_id  text        NOT NULL REFERENCES sellers (id) ON DELETE CASCADE,
    kind       text        NOT NULL CHECK (kind IN ('registration', 'warehouse', 'payment_account')),
    hash       bytea       NOT NULL CHECK (octet_length(hash) = 32),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (seller_id, kind)
);
-- the sellers behind one signal
CREATE INDEX seller_signals_hash_idx ON seller_signals (kind, hash);

-- One row per line of a counterfeit claim once its seller is charged: the
-- brand and SKU (from the order's line), the quantity claimed and the
-- line's share of the claim's amount. Written by a trigger in the
-- transaction that charges the seller, so intelligence never aggregates
-- claims' JSON at read time and the claim's intake pays nothing for it.
CREATE TABLE counterfeit_lines (
    claim_id      text        NOT NULL REFERENCES claims (id),
    line          smallint    NOT NULL,
    brand_id      text,                 -- NULL: the order names no brand
    sku           text        NOT NULL,
    item_name     text        NOT NULL,
    quantity      bigint      NOT NULL CHECK (quantity > 0),
    -- the line's share of the claim's amount, in minor units; the shares
    -- of a claim's lines add up to its amount exactly
    amount        bigint      NOT NULL CHECK (amount >= 0),
    currency      char(3)     NOT NULL,
    seller_id     text        NOT NULL,
    shopper_id    text        NOT NULL, -- counted, never shown
    claimed_at    timestamptz NOT NULL,
    charge_status text        NOT NULL,
    -- the claim's first line of this brand (or of no brand): counting
    -- these counts claims, without a DISTINCT over a brand's lines
    brand_first   boolean     NOT NULL,
    -- when the charge last changed status: for a final or upheld charge,
    -- when the counterfeit was confirmed
    status_at     timestamptz NOT NULL,
    PRIMARY KEY (claim_id, line)
);
-- in the order a brand's lines are listed, so a page reads only its own rows
CREATE INDEX counterfeit_lines_brand_idx ON counterfeit_lines (brand_id, claimed_at, claim_id, line);
CREATE INDEX counterfeit_lines_seller_idx ON counterfeit_lines (seller_id);

-- The lines of claim c, as its seller is charged: the claimed lines (none
-- named: the whole order), each valued at the order's unit price; the
-- claim's amount is shared in proportion to the values, each line taking
-- the difference of the floors of the running shares, so the shares add
-- up to the amount exactly.
CREATE FUNCTION insert_counterfeit_lines(c claims) RETURNS void LANGUAGE sql AS $$
    INSERT INTO counterfeit_lines (claim_id, line, brand_id, sku, item_name, quantity, amount, currency,
                                   seller_id, shopper_id, claimed_at, charge_status, brand_first, status_at)
    WITH lines AS (
        SELECT (e.ord - 1)::smallint AS line, e.item->>'sku' AS sku, e.item->>'name' AS name,
               e.item->>'brand' AS brand, q.quantity,
               q.quantity::numeric * (e.item->>'unit_amount')::numeric AS value
          FROM orders o
         CROSS JOIN LATERAL jsonb_array_elements(o.items) WITH ORDINALITY AS e(item, ord)
         CROSS JOIN LATERAL (
               SELECT (ci->>'quantity')::bigint AS quantity
                 FROM jsonb_array_elements(c.items) ci
                WHERE ci->>'sku' = e.item->>'sku'
               UNION ALL
               SELECT (e.item->>'quantity')::bigint WHERE jsonb_array_length(c.items) = 0) q
         WHERE o.id = c.order_id
    ),
    running AS (
        SELECT l.*, sum(value) OVER () AS total, sum(value) OVER (ORDER BY line) AS upto,
               row_number() OVER (PARTITION BY brand ORDER BY line) = 1 AS brand_first
          FROM lines l
    )
    SELECT c.id, line, brand, sku, coalesce(name, sku), quantity,
           (floor(c.amount::numeric * upto / total) - floor(c.amount::numeric * (upto - value) / total))::bigint,
           c.currency, c.seller_id, c.shopper_id, c.created_at, c.chargeback_status, brand_first, c.updated_at
      FROM running
     WHERE total > 0
$$;

CREATE FUNCTION note_counterfeit_lines() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.chargeback_status IS NULL THEN
        PERFORM insert_counterfeit_lines(NEW);
    ELSE
        UPDATE counterfeit_lines SET charge_status = NEW.chargeback_status, status_at = NEW.updated_at
         WHERE claim_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER claims_counterfeit_lines AFTER UPDATE ON claims
    FOR EACH ROW WHEN (NEW.reason = 'counterfeit' AND NEW.chargeback_status IS NOT NULL
                       AND OLD.chargeback_status IS DISTINCT FROM NEW.chargeback_status)
    EXECUTE FUNCTION note_counterfeit_lines();

-- Counterfeit claims charged before this migration.
SELECT insert_counterfeit_lines(c) FROM claims c
 WHERE reason = 'counterfeit' AND chargeback_status IS NOT NULL;

-- A rights holder's authentication of the goods of a claim of their
-- brand: genuine or counterfeit, with a note and a document. One per
-- claim and brand; a rights holder may revise it (revisions counts).
-- It changes no money; agents read it on the claim.
CREATE TABLE authentication_verdicts (
    claim_id     text        NOT NULL REFERENCES claims (id),
    brand_id     text        NOT NULL REFERENCES brands (id),
    subject      text        NOT NULL,
    verdict      text        NOT NULL CHECK (verdict IN ('genuine', 'counterfeit')),
    note         text        NOT NULL CHECK (octet_length(note) BETWEEN 1 AND 8000),
    document_url text,
    revisions    integer     NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (claim_id, brand_id)
);
-- a rights holder's verdicts, for their rating
CREATE INDEX authentication_verdicts_subject_idx ON authentication_verdicts (subject);

-- Enforcement cases: clusters of linked sellers with confirmed
-- counterfeits, kept under a stable id as they grow, and the funnel from
-- lead to outcome (open, referred, accepted, action_taken, closed).
CREATE TABLE intel_cases (
    id         text        PRIMARY KEY,
    status     text        NOT NULL CHECK (status IN ('open', 'referred', 'accepted', 'action_taken', 'closed')),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
-- the sellers of a case, as last computed
CREATE TABLE intel_case_sellers (
    case_id   text NOT NULL REFERENCES intel_cases (id) ON DELETE CASCADE,
    seller_id text NOT NULL,
    PRIMARY KEY (case_id, seller_id)
);
CREATE INDEX intel_case_sellers_seller_idx ON intel_case_sellers (seller_id);
-- the funnel: each move of a case, by whom, with its note
CREATE TABLE intel_case_events (
    case_id    text        NOT NULL REFERENCES intel_cases (id) ON DELETE CASCADE,
    seq        integer     NOT NULL,
    from_status text       NOT NULL,
    to_status  text        NOT NULL,
    actor_role text        NOT NULL,
    actor_id   text        NOT NULL,
    note       text        NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (case_id, seq)
);

-- Every read of intelligence and every packet handed out: who, what, when.
-- Append-only; admins list it.
CREATE TABLE intel_access_log (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL,
    role       text        NOT NULL,
    subject    text        NOT NULL,
    action     text        NOT NULL,
    resource   text        NOT NULL,
    detail     jsonb       NOT NULL DEFAULT '{}',
    request_id text        NOT NULL DEFAULT ''
);
