-- A backtest streams the claims decided in a period in the order they
-- were decided. Without an index on that order, PostgreSQL sorted every
-- claim of the period first: with a million claims, a parallel scan and
-- an external sort of about 560 MB on disk before the first row, on every
-- core. With it, rows stream from the first moment, in the heap's own
-- order (claims are filed, and so decided, over time).
CREATE INDEX claims_decided_idx ON claims (decided_at, id);

-- Whether a claim's refund ever failed is read per replayed claim from its
-- timeline; without this index PostgreSQL scanned every timeline entry
-- (six million for a million claims) to find the few that failed.
CREATE INDEX claim_events_refund_failed_idx ON claim_events (claim_id) WHERE type = 'refund_failed';
