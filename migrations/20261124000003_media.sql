-- media: assets and their durable transcode jobs.
CREATE SCHEMA IF NOT EXISTS media;

CREATE TABLE media.assets (
    id            uuid        PRIMARY KEY,
    filename      text        NOT NULL,
    state         text        NOT NULL DEFAULT 'processing',
    source_key    text        NOT NULL,
    -- What ffprobe found (SourceInfo as JSON).
    source        jsonb       NOT NULL,
    renditions    jsonb       NOT NULL DEFAULT '[]',
    -- Set once playable (master) and once ready (the rest); keys in the object store.
    master_key    text,
    poster_key    text,
    storyboard_key text,
    error_code    text,
    error_message text,
    created_by    uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    playable_at   timestamptz,
    ready_at      timestamptz,
    CONSTRAINT assets_state_check CHECK (state IN ('processing', 'ready', 'failed', 'cancelled'))
);

CREATE TABLE media.jobs (
    id            uuid        PRIMARY KEY,
    asset_id      uuid        NOT NULL REFERENCES media.assets (id) ON DELETE CASCADE,
    state         text        NOT NULL DEFAULT 'queued',
    -- Raised by every claim; every write of a worker names the attempt it holds, so a
    -- worker whose lease expired cannot write over its successor (fencing).
    attempt       integer     NOT NULL DEFAULT 0,
    max_attempts  integer     NOT NULL,
    run_after     timestamptz NOT NULL DEFAULT now(),
    lease_until   timestamptz,
    worker        text,
    -- The latest progress event (a protobuf JobEvent) and its sequence number.
    progress      bytea,
    sequence      bigint      NOT NULL DEFAULT 0,
    error_code    text,
    error_message text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT jobs_asset_key UNIQUE (asset_id),
    CONSTRAINT jobs_state_check CHECK (state IN ('queued', 'running', 'ready', 'failed', 'cancelled'))
);
CREATE INDEX jobs_queued_idx ON media.jobs (run_after) WHERE state = 'queued';
CREATE INDEX jobs_running_idx ON media.jobs (lease_until) WHERE state = 'running';
