-- auth: accounts an admin disables, and TV sign-in (the device flow of RFC 8628).

-- Set while the account is disabled: it cannot sign in or refresh.
ALTER TABLE auth.users ADD COLUMN disabled_at timestamptz;

-- One row per pair of codes a device asked for, from the request until the device exchanges
-- it for a session (the row is deleted then: single use) or an hour after it expired.
-- In PostgreSQL rather than Redis: TV sign-in must work without Redis, and approving and
-- exchanging are state changes decided under a row lock.
CREATE TABLE auth.device_authorizations (
    id                  uuid        PRIMARY KEY,
    -- SHA-256 of the device code (256 random bits): a database leak leaks no usable code.
    device_code_hash    bytea       NOT NULL,
    -- 8 letters from BCDFGHJKLMNPQRSTVWXZ, upper case, without the dash shown to people.
    user_code           text        NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz NOT NULL,
    -- Seconds between polls; each `slow_down` adds 5 (RFC 8628 §3.5).
    interval_secs       integer     NOT NULL,
    last_polled_at      timestamptz,
    -- NULL while pending; then who decided, when, and through which session. A session
    -- ended before the device polls (password change, sign-out) takes its approval with it.
    approved            boolean,
    user_id             uuid        REFERENCES auth.users (id) ON DELETE CASCADE,
    approved_in_session uuid        REFERENCES auth.refresh_families (id) ON DELETE CASCADE,
    decided_at          timestamptz,
    CONSTRAINT device_authorizations_device_code_key UNIQUE (device_code_hash),
    CONSTRAINT device_authorizations_user_code_key UNIQUE (user_code),
    CONSTRAINT device_authorizations_decision_check CHECK (
        (approved IS NULL) = (decided_at IS NULL) AND (approved IS NULL OR user_id IS NOT NULL)
    )
);
CREATE INDEX device_authorizations_expires_at_idx ON auth.device_authorizations (expires_at);
CREATE INDEX device_authorizations_user_idx ON auth.device_authorizations (user_id);
CREATE INDEX device_authorizations_session_idx ON auth.device_authorizations (approved_in_session);
