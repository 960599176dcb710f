-- What a claim's triggers cost, measured on the claim's path: the SQL
-- function that writes a counterfeit claim's lines was planned afresh on
-- every call (about 1.4 ms each, more than the rest of its step), and the
-- outbound events of a claim's timeline were written one plpgsql call and
-- one INSERT per entry. Both do the same work as before, for less.

-- As plpgsql, the INSERT's plan is kept for the session.
CREATE OR REPLACE FUNCTION insert_counterfeit_lines(c claims) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
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
     WHERE total > 0;
END $$;

-- One INSERT per statement that writes timeline entries (a step writes
-- up to three at once), from the entries it wrote.
CREATE FUNCTION note_claim_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (id, type, subject_id, claim_id, sequence, created_at)
    SELECT 'evt_' || n.claim_id || '_' || n.seq,
           CASE n.type
               WHEN 'override' THEN 'claim.overridden'
               WHEN 'chargeback_contested' THEN 'chargeback.contested'
               WHEN 'chargeback_final' THEN 'chargeback.settled'
               WHEN 'contest_upheld' THEN 'chargeback.settled'
               WHEN 'contest_reversed' THEN 'chargeback.settled'
               WHEN 'chargeback_waived' THEN 'chargeback.settled'
               ELSE 'claim.' || n.type END,
           n.claim_id, n.claim_id, n.seq, n.created_at
      FROM new_entries n
    UNION ALL
    -- A refund that failed after the seller was charged voids the charge:
    -- that is a settlement of the charge too.
    SELECT 'evt_' || n.claim_id || '_' || n.seq || '_chargeback', 'chargeback.settled',
           n.claim_id, n.claim_id, n.seq, n.created_at
      FROM new_entries n
     WHERE n.type = 'refund_failed' AND n.data ->> 'chargeback_to' = 'voided';
    RETURN NULL;
END $$;
DROP TRIGGER claim_events_outbox ON claim_events;
DROP FUNCTION note_claim_event();
CREATE TRIGGER claim_events_outbox AFTER INSERT ON claim_events
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION note_claim_events();
