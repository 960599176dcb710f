-- Intake reads the shopper's and the seller's recent claims under the
-- order's lock; with years of history these must be range scans on time,
-- not walks through every claim of the seller or shopper.
CREATE INDEX claims_shopper_created_idx ON claims (shopper_id, created_at);
CREATE INDEX claims_seller_counterfeit_idx ON claims (seller_id, created_at) WHERE reason = 'counterfeit';
