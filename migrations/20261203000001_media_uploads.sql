-- media: resumable uploads whose bytes go straight into the object store as the parts of
-- a multipart upload. The row is the upload's whole state, so any edge and any media
-- instance carries on an upload another one started.
CREATE TABLE media.uploads (
    id            uuid        PRIMARY KEY,
    owner         uuid        NOT NULL,
    filename      text        NOT NULL,
    -- The declared size; NULL while unknown (an internal stream that ends when it ends).
    length        bigint,
    -- Bytes stored so far: the parts' sizes plus the tail's.
    received      bigint      NOT NULL DEFAULT 0,
    -- The asset the source becomes, chosen up front so the object's key is known.
    asset_id      uuid        NOT NULL,
    source_key    text        NOT NULL,
    -- The store's multipart upload id, and its parts as the store acknowledged them.
    multipart_id  text        NOT NULL,
    parts         jsonb       NOT NULL DEFAULT '[]',
    -- Bytes after the last part, shorter than the store's smallest part; they open the
    -- next part when more bytes come.
    tail          bytea       NOT NULL DEFAULT '',
    -- receiving → stored (the object is in place) → complete (probed; asset and job made).
    state         text        NOT NULL DEFAULT 'receiving',
    job_id        uuid,
    -- SHA-256 of the key given to a direct upload's client, in place of a bearer token.
    key_hash      bytea,
    expires_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uploads_state_check CHECK (state IN ('receiving', 'stored', 'complete')),
    CONSTRAINT uploads_received_check CHECK (received >= 0 AND (length IS NULL OR received <= length))
);
CREATE INDEX uploads_expires_idx ON media.uploads (expires_at);
CREATE INDEX uploads_owner_idx ON media.uploads (owner) WHERE state = 'receiving';

-- One-time upload URLs: an editor's grant of one upload of at most max_bytes.
CREATE TABLE media.direct_uploads (
    token_hash    bytea       PRIMARY KEY,
    owner         uuid        NOT NULL,
    max_bytes     bigint      NOT NULL,
    expires_at    timestamptz NOT NULL,
    -- The upload it created; set once, so the token works once.
    upload_id     uuid,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX direct_uploads_expires_idx ON media.direct_uploads (expires_at);
