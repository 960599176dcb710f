-- Outbound events: what happened, written in the transaction that made it
-- happen, for the relay to number and send on (webhooks, the stream, the
-- feed). See docs/events.md.
--
-- Triggers write the rows, so no code path that changes a claim, a
-- recovery, a reconciliation, a standing or a case can forget one. A
-- claim's events take their id and sequence from its timeline
-- (claim_events); their data, the claim as the API shows it to the
-- platform, is rendered by the relay when it numbers them. Other events
-- carry their data from the start.
--
-- Numbering. Rows from concurrent transactions commit out of order, so a
-- reader that followed an ever-growing id could skip a row that commits
-- late. The relay numbers (position) only rows whose transaction id is
-- older than every transaction still running (pg_snapshot_xmin of the
-- current snapshot): those are all committed or gone, so none can appear
-- behind the numbers given. A claim's timeline is written under the
-- claim's row lock, so its later events can never be numbered before its
-- earlier ones; within one batch the relay numbers them by claim and
-- sequence.

CREATE TABLE events (
    id           text        PRIMARY KEY,
    type         text        NOT NULL,
    -- what the event is about: a claim, a recovery, a reconciliation run,
    -- a seller, a case
    subject_id   text        NOT NULL,
    claim_id     text,
    sequence     integer,
    created_at   timestamptz NOT NULL,
    txid         xid8        NOT NULL DEFAULT pg_current_xact_id(),
    -- given by the relay, in order, without gaps; NULL until then
    position     bigint      UNIQUE,
    published_at timestamptz,
    data         jsonb
);
-- what the relay has still to number, oldest transaction first
CREATE INDEX events_pending_idx ON events (txid, id) WHERE position IS NULL;
CREATE INDEX events_pending_claim_idx ON events (claim_id) WHERE position IS NULL;

-- A claim's timeline entry as catalogue events.
CREATE FUNCTION note_claim_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    t text := CASE NEW.type
        WHEN 'override' THEN 'claim.overridden'
        WHEN 'chargeback_contested' THEN 'chargeback.contested'
        WHEN 'chargeback_final' THEN 'chargeback.settled'
        WHEN 'contest_upheld' THEN 'chargeback.settled'
        WHEN 'contest_reversed' THEN 'chargeback.settled'
        WHEN 'chargeback_waived' THEN 'chargeback.settled'
        ELSE 'claim.' || NEW.type END;
BEGIN
    INSERT INTO events (id, type, subject_id, claim_id, sequence, created_at)
    VALUES ('evt_' || NEW.claim_id || '_' || NEW.seq, t, NEW.claim_id, NEW.claim_id, NEW.seq, NEW.created_at);
    -- A refund that failed after the seller was charged voids the charge:
    -- that is a settlement of the charge too.
    IF NEW.type = 'refund_failed' AND NEW.data ->> 'chargeback_to' = 'voided' THEN
        INSERT INTO events (id, type, subject_id, claim_id, sequence, created_at)
        VALUES ('evt_' || NEW.claim_id || '_' || NEW.seq || '_chargeback', 'chargeback.settled',
                NEW.claim_id, NEW.claim_id, NEW.seq, NEW.created_at);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER claim_events_outbox AFTER INSERT ON claim_events
    FOR EACH ROW EXECUTE FUNCTION note_claim_event();

CREATE FUNCTION note_recovery() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (id, type, subject_id, created_at, data)
    VALUES ('evt_' || NEW.id, 'recovery.recorded', NEW.id, NEW.recorded_at, jsonb_build_object(
        'id', NEW.id, 'seller_id', NEW.seller_id, 'amount', NEW.amount, 'currency', NEW.currency,
        'method', NEW.method, 'reference', NEW.reference, 'note', NEW.note,
        'recorded_by', NEW.recorded_by, 'recorded_at', NEW.recorded_at));
    RETURN NULL;
END $$;
CREATE TRIGGER seller_recoveries_outbox AFTER INSERT ON seller_recoveries
    FOR EACH ROW EXECUTE FUNCTION note_recovery();

CREATE FUNCTION note_reconciliation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (id, type, subject_id, created_at, data)
    VALUES ('evt_' || NEW.id || '_' || NEW.status, 'reconciliation.' || NEW.status, NEW.id,
            coalesce(NEW.finished_at, NEW.created_at), jsonb_build_object(
        'id', NEW.id, 'status', NEW.status, 'from', NEW.period_from, 'to', NEW.period_to,
        'trigger', NEW.trigger, 'providers', to_jsonb(NEW.providers), 'matched', NEW.matched,
        'exceptions', NEW.exceptions, 'open_exceptions', NEW.open_exceptions,
        'exception_counts', coalesce(NEW.summary -> 'exceptions', '{}'::jsonb),
        'error', NEW.error, 'finished_at', NEW.finished_at))
    ON CONFLICT (id) DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER reconciliation_runs_outbox AFTER UPDATE OF status ON reconciliation_runs
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status AND NEW.status IN ('completed', 'failed'))
    EXECUTE FUNCTION note_reconciliation();

CREATE FUNCTION note_standing_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (id, type, subject_id, created_at, data)
    VALUES ('evt_std_' || NEW.seller_id || '_' || NEW.seq, 'seller.standing_changed', NEW.seller_id, NEW.created_at,
            jsonb_build_object('seller_id', NEW.seller_id, 'from', NEW.from_level, 'to', NEW.to_level,
                               'score', NEW.score, 'why', NEW.why, 'at', NEW.created_at));
    RETURN NULL;
END $$;
CREATE TRIGGER seller_standing_events_outbox AFTER INSERT ON seller_standing_events
    FOR EACH ROW EXECUTE FUNCTION note_standing_event();

CREATE FUNCTION note_case_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (id, type, subject_id, created_at, data)
    VALUES ('evt_' || NEW.case_id || '_' || NEW.seq, 'case.status_changed', NEW.case_id, NEW.created_at,
            jsonb_build_object('case_id', NEW.case_id, 'from', NEW.from_status, 'to', NEW.to_status,
                               'by', NEW.actor_role || ':' || NEW.actor_id, 'note', NEW.note, 'at', NEW.created_at));
    RETURN NULL;
END $$;
CREATE TRIGGER intel_case_events_outbox AFTER INSERT ON intel_case_events
    FOR EACH ROW EXECUTE FUNCTION note_case_event();

CREATE FUNCTION note_verdict() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (id, type, subject_id, claim_id, created_at, data)
    VALUES ('evt_vrd_' || NEW.claim_id || '_' || NEW.brand_id || '_' || NEW.revisions, 'verdict.recorded',
            NEW.claim_id, NULL, NEW.updated_at,
            jsonb_build_object('claim_id', NEW.claim_id, 'brand', NEW.brand_id, 'verdict', NEW.verdict,
                               'revisions', NEW.revisions, 'at', NEW.updated_at));
    RETURN NULL;
END $$;
CREATE TRIGGER authentication_verdicts_outbox AFTER INSERT OR UPDATE ON authentication_verdicts
    FOR EACH ROW EXECUTE FUNCTION note_verdict();

-- Where each consumer of the numbered events stands (the stream, each
-- webhook endpoint): the last position it has taken.
CREATE TABLE event_cursors (
    consumer   text        PRIMARY KEY,
    position   bigint      NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL
);
