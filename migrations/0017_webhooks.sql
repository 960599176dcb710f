-- Webhook endpoints and their deliveries (docs/events.md). The relay's
-- numbered events are fanned out to the endpoints that take their type,
-- one delivery row each, in the transaction that moves the fan-out's
-- cursor; a delivery row is the durable job of sending it: attempted by
-- the Standard Webhooks schedule until it is delivered or given up.

CREATE TABLE webhook_endpoints (
    id              text        PRIMARY KEY,
    url             text        NOT NULL,
    description     text        NOT NULL DEFAULT '',
    -- catalogue types, or '*' for all
    event_types     text[]      NOT NULL,
    enabled         boolean     NOT NULL DEFAULT true,
    -- why and when it was last disabled: manual, gone (410), failing
    disabled_reason text,
    disabled_at     timestamptz,
    -- signing secrets (whsec_…): the current one and, for a day after a
    -- rotation, the one before it
    secret          text        NOT NULL,
    previous_secret text,
    previous_until  timestamptz,
    -- since when every attempt has failed; NULL after a success
    failing_since   timestamptz,
    -- the endpoint takes events numbered after this position
    start_position  bigint      NOT NULL,
    -- deliveries that reached the receiver, and that were given up
    delivered_count bigint      NOT NULL DEFAULT 0,
    failed_count    bigint      NOT NULL DEFAULT 0,
    created_by      text        NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CHECK (cardinality(event_types) > 0),
    CHECK (enabled OR disabled_at IS NOT NULL)
);

CREATE TABLE webhook_deliveries (
    id              bigserial   PRIMARY KEY,
    endpoint_id     text        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        text        NOT NULL,
    event_type      text        NOT NULL,
    -- a claim's deliveries to one endpoint go one at a time, in order
    claim_id        text,
    position        bigint      NOT NULL,
    -- queued by a replay rather than by the fan-out
    replay          boolean     NOT NULL DEFAULT false,
    state           text        NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    -- an attempt in flight holds the delivery until then; one cut short
    -- (the process killed) is taken up again after it
    lease_until     timestamptz,
    last_status     integer,
    last_error      text,
    last_latency_ms integer,
    created_at      timestamptz NOT NULL,
    finished_at     timestamptz
);
-- what is due; each claim's oldest pending delivery per endpoint (a
-- claim's deliveries go in position order, a replayed one at its
-- event's place); an endpoint's pages
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_chain_idx ON webhook_deliveries (endpoint_id, claim_id, position, id)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id);
-- old finished deliveries go with the events (CLAIMSD_EVENTS_KEEP)
CREATE INDEX webhook_deliveries_finished_idx ON webhook_deliveries (finished_at) WHERE state <> 'pending';

CREATE TABLE webhook_attempts (
    delivery_id bigint      NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    n           integer     NOT NULL,
    at          timestamptz NOT NULL,
    status      integer,
    latency_ms  integer     NOT NULL,
    error       text,
    -- the first part of the receiver's answer
    response    text,
    PRIMARY KEY (delivery_id, n)
);

-- An endpoint disabled (by hand, a 410, or five days of failures) is an
-- event too: whoever runs the receivers hears of it on the stream, the
-- feed and the other endpoints.
CREATE FUNCTION note_webhook_disabled() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (id, type, subject_id, created_at, data)
    VALUES ('evt_' || NEW.id || '_disabled_' || (extract(epoch FROM NEW.disabled_at) * 1000000)::bigint,
            'webhook_endpoint.disabled', NEW.id, NEW.disabled_at,
            jsonb_build_object('id', NEW.id, 'url', NEW.url, 'reason', NEW.disabled_reason,
                               'disabled_at', NEW.disabled_at, 'failing_since', NEW.failing_since))
    ON CONFLICT (id) DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER webhook_endpoints_disabled AFTER UPDATE OF enabled ON webhook_endpoints
    FOR EACH ROW WHEN (OLD.enabled AND NOT NEW.enabled) EXECUTE FUNCTION note_webhook_disabled();
