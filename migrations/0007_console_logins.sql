-- One row per one-time sign-in link of the console that was used. The link's
-- token carries a random id (jti); inserting it is how the link is spent, so
-- a second insert of the same id (a link used twice, or two clicks racing)
-- conflicts and signs nobody in. Rows past expires_at may be deleted: the
-- link's token has expired by then and is refused anyway.
CREATE TABLE console_logins (
    jti        TEXT PRIMARY KEY,
    role       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    used_at    TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX console_logins_expires_idx ON console_logins (expires_at);
