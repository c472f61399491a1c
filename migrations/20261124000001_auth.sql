-- auth: accounts, roles, refresh-token families and signing keys.
CREATE SCHEMA IF NOT EXISTS auth;

CREATE TABLE auth.users (
    id            uuid        PRIMARY KEY,
    -- Normalised (trimmed, lower-case) by the service before it gets here.
    email         text        NOT NULL,
    -- An argon2id PHC string; the parameters travel inside it.
    password_hash text        NOT NULL,
    roles         text[]      NOT NULL DEFAULT ARRAY['viewer'],
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_roles_check CHECK (
        cardinality(roles) > 0 AND roles <@ ARRAY['viewer', 'editor', 'admin']
    )
);
CREATE INDEX users_created_at_idx ON auth.users (created_at, id);

-- Every login starts a family; each refresh spends one token of it and adds the next.
-- Revoking the family ends every session descended from that login.
CREATE TABLE auth.refresh_families (
    id         uuid        PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE INDEX refresh_families_user_idx ON auth.refresh_families (user_id);

CREATE TABLE auth.refresh_tokens (
    -- SHA-256 of the token: a database leak does not leak usable tokens.
    token_hash bytea       PRIMARY KEY,
    family_id  uuid        NOT NULL REFERENCES auth.refresh_families (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON auth.refresh_tokens (family_id);

-- Ed25519 signing keys. The newest active key signs; it and the one before it are
-- published, and so is any key that is not active yet, so verifiers learn a new key
-- before the first token signed with it reaches them.
CREATE TABLE auth.signing_keys (
    kid           text        PRIMARY KEY,
    private_pkcs8 bytea       NOT NULL,
    public_x      text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    active_from   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX signing_keys_active_from_idx ON auth.signing_keys (active_from DESC);
