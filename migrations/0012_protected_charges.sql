-- Protection for creditable sellers: a protected charge is carried by the
-- platform (ledger account platform_protection) until it is confirmed.
-- The flag is also in the chargeback document; the column is for the
-- agents' contest queue, which works protected contests first.
ALTER TABLE claims
    ADD COLUMN chargeback_protected boolean NOT NULL DEFAULT false;

-- Contested charges waiting for an agent: protected ones first, then the
-- oldest contest window.
CREATE INDEX claims_contest_queue_idx ON claims (chargeback_protected DESC, contest_by, id)
    WHERE chargeback_status = 'contested';

-- Finance's count of the protected charges the platform carries.
CREATE INDEX claims_protected_open_idx ON claims (chargeback_status)
    WHERE chargeback_protected AND chargeback_status IN ('open', 'contested');
