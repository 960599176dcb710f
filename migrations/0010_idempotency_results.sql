-- A keyed request keeps its result as the use case produced it (a claim as
-- the first call left it, a recovery, a run's id), not an HTTP answer, so
-- each front door renders a replay itself. Keys kept before this hold no
-- result and are refused if sent again (they live for a retry's minutes).
ALTER TABLE idempotency_keys ADD COLUMN result bytea;
ALTER TABLE idempotency_keys DROP COLUMN status_code;
ALTER TABLE idempotency_keys DROP COLUMN response_body;
