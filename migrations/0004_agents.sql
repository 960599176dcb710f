-- Agents and sellers: review deadlines, overrides, chargebacks and
-- contests.
ALTER TABLE claims
    -- Numbers the refund's idempotency keys; grows when an agent retries a
    -- refund the provider refused.
    ADD COLUMN refund_attempt integer NOT NULL DEFAULT 1 CHECK (refund_attempt >= 1),
    -- While the claim waits for a person: decide by, and when it passed.
    ADD COLUMN review_deadline timestamptz,
    ADD COLUMN escalated_at timestamptz,
    -- Why an agent rejected it (the shopper is shown the reason).
    ADD COLUMN rejection_code text,
    -- The charge to the seller: open, contested, upheld, final, reversed,
    -- waived or voided; the contest window; contest and settlement details.
    ADD COLUMN chargeback_status text,
    ADD COLUMN contest_by timestamptz,
    ADD COLUMN chargeback jsonb;

-- Claims already waiting for a person get the default deadline; charges
-- made before contests existed are final.
UPDATE claims SET review_deadline = updated_at + interval '24 hours'
 WHERE status IN ('in_review', 'refund_failed');
UPDATE claims SET chargeback_status = 'final', contest_by = charged_at
 WHERE charged_at IS NOT NULL AND status IN ('seller_charged', 'closed');

-- The review queue reads waiting claims by deadline.
CREATE INDEX claims_review_queue_idx ON claims (review_deadline, id)
    WHERE status IN ('in_review', 'refund_failed');
-- A seller's open contest windows.
CREATE INDEX claims_open_chargebacks_idx ON claims (seller_id, contest_by)
    WHERE chargeback_status = 'open';
