-- Brands the platform protects and the rights holders who speak for each:
-- the owners of a mark, or their agents, by the subject of their tokens.
-- A rights holder reads the brands that list them (by subject, one index
-- probe), so they are rows of their own rather than a JSON array.

CREATE TABLE brands (
    id          text PRIMARY KEY CHECK (octet_length(id) BETWEEN 1 AND 64),
    name        text NOT NULL CHECK (octet_length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE TABLE brand_rights_holders (
    brand_id  text NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    subject   text NOT NULL CHECK (octet_length(subject) BETWEEN 1 AND 64),
    -- the order the platform listed them in, which the API gives back
    position  smallint NOT NULL CHECK (position BETWEEN 0 AND 49),
    PRIMARY KEY (brand_id, subject),
    UNIQUE (brand_id, position)
);
-- the brands a rights holder speaks for
CREATE INDEX brand_rights_holders_subject_idx ON brand_rights_holders (subject);
