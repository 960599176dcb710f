-- Webhook deliveries already processed, by the provider's event id: a
-- provider retries deliveries, and a replay must not act twice.
CREATE TABLE webhook_events (
    provider    text        NOT NULL,
    event_id    text        NOT NULL,
    type        text        NOT NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (provider, event_id)
);
