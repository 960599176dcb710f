-- Seller standing: what the engine learned about each seller from its own
-- outcomes. A claim's intake reads seller_standing by its primary key (one
-- indexed read); a durable job keeps it current.
--
-- Every transaction that changes a standing's input (an order paid for a
-- seller, a claim filed against one, a claim rejected or not, its charge changing,
-- the seller's platform risk score) notes the seller in
-- seller_standing_changes, by trigger, so no writer can forget to: an
-- append-only insert that never waits on another transaction. The job
-- drains the notes, recomputes each seller once and records a change of
-- level in seller_standing_events, the seller's timeline.

CREATE TABLE seller_standing (
    seller_id    text PRIMARY KEY REFERENCES sellers (id),
    level        text NOT NULL CHECK (level IN ('creditable', 'standard', 'watch', 'high_risk')),
    score        integer NOT NULL CHECK (score BETWEEN 0 AND 100),
    -- the counts it was computed from (standing.Inputs), as the API shows them
    inputs       jsonb NOT NULL,
    computed_at  timestamptz NOT NULL
);
-- the daily pass recomputes the stalest first, as windows roll on
CREATE INDEX seller_standing_computed_idx ON seller_standing (computed_at);

CREATE TABLE seller_standing_events (
    seller_id   text NOT NULL REFERENCES sellers (id),
    seq         bigint GENERATED ALWAYS AS IDENTITY,
    from_level  text NOT NULL,
    to_level    text NOT NULL,
    score       integer NOT NULL,
    -- the sentence that explains the new level, as the seller read it then
    why         text NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (seller_id, seq)
);

CREATE TABLE seller_standing_changes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    seller_id  text NOT NULL
);

-- Counting a seller's paid orders and claims over a window must be a
-- range scan; the claims' index carries what is counted, so it is read
-- alone.
CREATE INDEX orders_seller_paid_idx ON orders (seller_id, paid_at);
CREATE INDEX claims_seller_created_idx ON claims (seller_id, created_at) INCLUDE (status, reason, chargeback_status);

CREATE FUNCTION note_standing_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- (NEW.seller_id may not even be named for a seller's row, so each
    -- table has its own branch)
    IF TG_TABLE_NAME = 'sellers' THEN
        INSERT INTO seller_standing_changes (seller_id) VALUES (NEW.id);
        RETURN NULL;
    END IF;
    INSERT INTO seller_standing_changes (seller_id) VALUES (NEW.seller_id);
    -- an order moved to another seller (it has no claims) changes both
    IF TG_TABLE_NAME = 'orders' AND TG_OP = 'UPDATE' AND OLD.seller_id <> NEW.seller_id THEN
        INSERT INTO seller_standing_changes (seller_id) VALUES (OLD.seller_id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER claims_standing_insert AFTER INSERT ON claims
    FOR EACH ROW EXECUTE FUNCTION note_standing_change();
-- Of a claim's changes, only those the counts read: rejected or not, and
-- the charge's status (a claim moving from approved to refunded to closed
-- changes no count, so it notes nothing).
CREATE TRIGGER claims_standing_update AFTER UPDATE ON claims
    FOR EACH ROW WHEN ((OLD.status = 'rejected') IS DISTINCT FROM (NEW.status = 'rejected')
                       OR OLD.chargeback_status IS DISTINCT FROM NEW.chargeback_status)
    EXECUTE FUNCTION note_standing_change();
CREATE TRIGGER orders_standing_insert AFTER INSERT ON orders
    FOR EACH ROW EXECUTE FUNCTION note_standing_change();
CREATE TRIGGER orders_standing_update AFTER UPDATE ON orders
    FOR EACH ROW WHEN (OLD.paid_at IS DISTINCT FROM NEW.paid_at OR OLD.seller_id <> NEW.seller_id)
    EXECUTE FUNCTION note_standing_change();
CREATE TRIGGER sellers_standing_update AFTER UPDATE ON sellers
    FOR EACH ROW WHEN (OLD.risk_score IS DISTINCT FROM NEW.risk_score
                       OR OLD.verified IS DISTINCT FROM NEW.verified)
    EXECUTE FUNCTION note_standing_change();

-- Sellers known before standing existed are computed on the job's first run.
INSERT INTO seller_standing_changes (seller_id) SELECT id FROM sellers;
