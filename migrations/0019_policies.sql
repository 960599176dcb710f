-- The policy lab: decision policies as versioned records, their audit
-- trail, backtests over recorded decisions and shadow decisions.

-- One row per policy version. document is the policy as its file holds
-- it (policyfile's canonical form). Exactly one version is active and at
-- most one is in shadow, which the two partial unique indexes hold even
-- against concurrent activations.
CREATE TABLE policies (
    version      text        PRIMARY KEY CHECK (version ~ '^[A-Za-z0-9._-]{1,64}$'),
    status       text        NOT NULL CHECK (status IN ('draft', 'shadow', 'active', 'retired')),
    document     jsonb       NOT NULL,
    note         text        NOT NULL DEFAULT '' CHECK (char_length(note) <= 500),
    created_by   text        NOT NULL,
    created_at   timestamptz NOT NULL,
    activated_by text,
    activated_at timestamptz,
    shadow_by    text,
    shadow_at    timestamptz,
    retired_at   timestamptz
);

CREATE UNIQUE INDEX policies_one_active ON policies ((true)) WHERE status = 'active';
CREATE UNIQUE INDEX policies_one_shadow ON policies ((true)) WHERE status = 'shadow';

-- The audit trail: every change of a version's status, who made it and
-- what it replaced. Engines poll max(id) to pick up a change within
-- seconds, without a restart.
CREATE TABLE policy_changes (
    id          bigserial   PRIMARY KEY,
    version     text        NOT NULL REFERENCES policies (version),
    action      text        NOT NULL CHECK (action IN ('created', 'activated', 'shadow_started', 'shadow_stopped', 'retired', 'seeded')),
    from_status text,
    to_status   text        NOT NULL,
    replaced    text,
    actor       text        NOT NULL,
    at          timestamptz NOT NULL
);

CREATE INDEX policy_changes_version_idx ON policy_changes (version, id);

-- A backtest: one candidate replayed over the decisions recorded in a
-- period. report holds the figures once it is completed.
CREATE TABLE policy_backtests (
    id           text        PRIMARY KEY,
    version      text        NOT NULL REFERENCES policies (version),
    period_from  timestamptz NOT NULL,
    period_to    timestamptz NOT NULL CHECK (period_to > period_from),
    filters      jsonb       NOT NULL,
    status       text        NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed')),
    requested_by text        NOT NULL,
    created_at   timestamptz NOT NULL,
    started_at   timestamptz,
    finished_at  timestamptz,
    replayed     bigint      NOT NULL DEFAULT 0,
    changed      bigint      NOT NULL DEFAULT 0,
    report       jsonb,
    error        text
);

CREATE INDEX policy_backtests_version_idx ON policy_backtests (version, created_at DESC);

-- The claims a backtest's candidate decides otherwise. No foreign key to
-- claims: rows are written in bulk (COPY) and go with their backtest.
CREATE TABLE policy_backtest_claims (
    backtest_id text    NOT NULL REFERENCES policy_backtests (id) ON DELETE CASCADE,
    claim_id    text    NOT NULL,
    got         text    NOT NULL,
    candidate   text    NOT NULL,
    amount      bigint  NOT NULL,
    currency    char(3) NOT NULL,
    reasons     text[]  NOT NULL,
    PRIMARY KEY (backtest_id, claim_id)
);

CREATE INDEX policy_backtest_claims_change_idx ON policy_backtest_claims (backtest_id, got, candidate, claim_id);

-- What the version in shadow decided for each claim filed while it was,
-- written with the claim; never acted on.
CREATE TABLE policy_shadow_decisions (
    claim_id   text        PRIMARY KEY REFERENCES claims (id) ON DELETE CASCADE,
    version    text        NOT NULL,
    outcome    text        NOT NULL CHECK (outcome IN ('instant_refund', 'manual_review', 'rejected')),
    reasons    text[]      NOT NULL,
    tier       text        NOT NULL,
    decided_at timestamptz NOT NULL
);

CREATE INDEX policy_shadow_decisions_version_idx ON policy_shadow_decisions (version, decided_at);

-- Every change of a version's status is an outbound event, written in
-- the change's own transaction. Its id holds the change's moment (in
-- microseconds) beside its number: every database numbers its changes
-- from 1 and seeds the same built-in version, and a stream that dedupes
-- by id must not take one database's first change for another's.
CREATE FUNCTION note_policy_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (id, type, subject_id, created_at, data)
    VALUES ('evt_pol_' || NEW.id || '_' || (extract(epoch FROM NEW.at) * 1000000)::bigint, 'policy.changed', NEW.version, NEW.at,
            jsonb_build_object('version', NEW.version, 'action', NEW.action, 'from', NEW.from_status, 'to', NEW.to_status,
                               'replaced', NEW.replaced, 'by', NEW.actor, 'at', NEW.at));
    RETURN NULL;
END $$;
CREATE TRIGGER policy_changes_outbox AFTER INSERT ON policy_changes
    FOR EACH ROW EXECUTE FUNCTION note_policy_change();
