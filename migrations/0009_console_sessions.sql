-- One row per console sign-in that has not ended. The session cookie is
-- signed and says who it is for, but a signature cannot be taken back: the
-- row is what makes a sign-in current. Every console request looks its
-- cookie's session up here by primary key; signing out deletes the row, and
-- an administrator ending someone's sign-ins deletes all of theirs, so the
-- old cookie opens nothing afterwards. Only a SHA-256 of the session's
-- random id is kept (in hex), so reading this table gives nobody a usable cookie.
-- Rows past expires_at are refused anyway; a later sign-in deletes them a day
-- after (by the database's clock).
CREATE TABLE console_sessions (
    id_hash    TEXT PRIMARY KEY,
    role       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX console_sessions_subject_idx ON console_sessions (subject, role);
CREATE INDEX console_sessions_expires_idx ON console_sessions (expires_at);
