-- webhooks: endpoints editors register, the events the services tell of (written in the
-- transaction of the change itself, so an event exists exactly when its change does), and
-- one delivery per event and endpoint, sent by whichever media instance claims it.
CREATE SCHEMA IF NOT EXISTS webhooks;

CREATE TABLE webhooks.endpoints (
    id          uuid        PRIMARY KEY,
    url         text        NOT NULL,
    -- asset.playable, asset.ready, asset.failed, asset.deleted, title.published.
    events      text[]      NOT NULL,
    description text        NOT NULL DEFAULT '',
    -- whsec_<base64 of 32 random bytes>: the HMAC key, shown once to who registered it.
    secret      text        NOT NULL,
    created_by  uuid        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX endpoints_created_by_idx ON webhooks.endpoints (created_by);

CREATE TABLE webhooks.events (
    id         uuid        PRIMARY KEY,
    type       text        NOT NULL,
    data       jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhooks.deliveries (
    id              uuid        PRIMARY KEY,
    endpoint_id     uuid        NOT NULL REFERENCES webhooks.endpoints (id) ON DELETE CASCADE,
    event_id        uuid        NOT NULL REFERENCES webhooks.events (id) ON DELETE CASCADE,
    state           text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    -- Sends begun; a claim adds one, and only the claim holding that number may record
    -- how its send went (a sender that lost its lease is fenced off).
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- Set while a sender holds it; a sender killed mid-send lets it lapse.
    lease_until     timestamptz,
    -- Retries stop here: 24 h after the event, or after a resend.
    expires_at      timestamptz NOT NULL,
    last_status     integer,
    last_error      text,
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
-- What the senders look for.
CREATE INDEX deliveries_due_idx ON webhooks.deliveries (next_attempt_at) WHERE state = 'pending';
-- An endpoint's log, newest first.
CREATE INDEX deliveries_endpoint_idx ON webhooks.deliveries (endpoint_id, created_at DESC);
CREATE INDEX deliveries_event_idx ON webhooks.deliveries (event_id);
