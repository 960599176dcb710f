-- Evidence files: photos and documents shoppers and sellers upload to a
-- claim (docs/evidence.md). The bytes live in a blob store (this
-- database's evidence_blobs by default, an S3-compatible bucket in
-- production); a row here is written only once the file, cleaned of its
-- metadata, is stored, and names the blob by its key.

CREATE TABLE evidence (
    id           text        PRIMARY KEY,
    claim_id     text        NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
    -- who uploaded it: the claim's shopper or the charged seller
    party        text        NOT NULL CHECK (party IN ('shopper', 'seller')),
    kind         text        NOT NULL CHECK (kind IN ('photo', 'receipt', 'document', 'other')),
    -- sniffed from the bytes, never taken from the request
    content_type text        NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp', 'application/pdf')),
    size         bigint      NOT NULL CHECK (size > 0),
    -- of the bytes served (after metadata was removed), hex
    sha256       text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    caption      text        NOT NULL DEFAULT '',
    width        integer,
    height       integer,
    blob_key     text        NOT NULL UNIQUE,
    -- a small JPEG of an image, for pages; NULL for a PDF
    thumb_key    text        UNIQUE,
    thumb_size   bigint,
    created_by   text        NOT NULL,
    created_at   timestamptz NOT NULL
);

CREATE INDEX evidence_claim ON evidence (claim_id, created_at, id);

-- Blobs to delete from the store: an upload's key is noted before it is
-- stored and the note removed with the evidence row's insert, so a blob
-- whose upload failed (or whose process died) is found and deleted; a
-- deleted evidence row (its claim's data erased) notes its blobs for
-- deletion. An hourly job works the notes.
CREATE TABLE evidence_blob_gc (
    blob_key text        PRIMARY KEY,
    -- pending: an upload under way (deleted if still here after an hour);
    -- deleted: the evidence row is gone, delete now
    reason   text        NOT NULL CHECK (reason IN ('pending', 'deleted')),
    since    timestamptz NOT NULL
);

CREATE FUNCTION evidence_gc_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO evidence_blob_gc (blob_key, reason, since)
    SELECT k, 'deleted', now()
    FROM unnest(ARRAY[OLD.blob_key, OLD.thumb_key]) AS k
    WHERE k IS NOT NULL
    ON CONFLICT (blob_key) DO UPDATE SET reason = 'deleted', since = now();
    RETURN OLD;
END
$$;

CREATE TRIGGER evidence_gc AFTER DELETE ON evidence
    FOR EACH ROW EXECUTE FUNCTION evidence_gc_on_delete();

-- The embedded blob store: a blob's bytes in chunks of at most 256 KiB,
-- written and read one chunk at a time so memory does not grow with a
-- file's size.
CREATE TABLE evidence_blobs (
    blob_key text    NOT NULL,
    seq      integer NOT NULL CHECK (seq >= 0),
    data     bytea   NOT NULL,
    PRIMARY KEY (blob_key, seq)
);

-- Images and PDFs are compressed already: store them out of line without
-- trying to compress them again.
ALTER TABLE evidence_blobs ALTER COLUMN data SET STORAGE EXTERNAL;
