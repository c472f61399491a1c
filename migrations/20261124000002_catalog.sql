-- catalog: titles, series → seasons → episodes, profiles, watchlists and playback progress.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE SCHEMA IF NOT EXISTS catalog;

-- unaccent() is only STABLE because its dictionary could change; naming the dictionary
-- makes the result fixed, so it may feed generated columns and indexes.
CREATE FUNCTION catalog.fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$;

CREATE TABLE catalog.titles (
    id              uuid        PRIMARY KEY,
    kind            text        NOT NULL,
    slug            text        NOT NULL,
    title           text        NOT NULL,
    synopsis        text        NOT NULL DEFAULT '',
    release_year    integer,
    runtime_secs    integer,
    maturity_rating text        NOT NULL DEFAULT '',
    genres          text[]      NOT NULL DEFAULT '{}',
    tags            text[]      NOT NULL DEFAULT '{}',
    credits         jsonb       NOT NULL DEFAULT '[]',
    -- The credited names, space-separated, kept by the service for search.
    credit_names    text        NOT NULL DEFAULT '',
    poster_url      text        NOT NULL DEFAULT '',
    backdrop_url    text        NOT NULL DEFAULT '',
    asset_id        uuid,
    visibility      text        NOT NULL DEFAULT 'draft',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    published_at    timestamptz,
    -- Listing order: newest publication first; drafts by creation (editors see them).
    sort_at         timestamptz GENERATED ALWAYS AS (coalesce(published_at, created_at)) STORED,
    search_title    tsvector    GENERATED ALWAYS AS (to_tsvector('simple', catalog.fold(title))) STORED,
    search_doc      tsvector    GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', catalog.fold(title)), 'A')
        || setweight(to_tsvector('simple', catalog.fold(credit_names)), 'B')
        || setweight(to_tsvector('simple', catalog.fold(synopsis)), 'C')
    ) STORED,
    CONSTRAINT titles_slug_key UNIQUE (slug),
    CONSTRAINT titles_kind_check CHECK (kind IN ('movie', 'series')),
    CONSTRAINT titles_visibility_check CHECK (visibility IN ('draft', 'published', 'unlisted')),
    CONSTRAINT titles_series_asset_check CHECK (kind = 'movie' OR asset_id IS NULL)
);
CREATE INDEX titles_sort_idx ON catalog.titles (sort_at DESC, id DESC);
CREATE INDEX titles_genres_idx ON catalog.titles USING gin (genres);
CREATE INDEX titles_search_idx ON catalog.titles USING gin (search_doc);

CREATE TABLE catalog.seasons (
    id         uuid        PRIMARY KEY,
    series_id  uuid        NOT NULL REFERENCES catalog.titles (id) ON DELETE CASCADE,
    number     integer     NOT NULL,
    title      text        NOT NULL DEFAULT '',
    synopsis   text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT seasons_series_number_key UNIQUE (series_id, number),
    CONSTRAINT seasons_number_check CHECK (number >= 0)
);

CREATE TABLE catalog.episodes (
    id           uuid        PRIMARY KEY,
    season_id    uuid        NOT NULL REFERENCES catalog.seasons (id) ON DELETE CASCADE,
    number       integer     NOT NULL,
    title        text        NOT NULL,
    synopsis     text        NOT NULL DEFAULT '',
    runtime_secs integer,
    asset_id     uuid,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT episodes_season_number_key UNIQUE (season_id, number),
    CONSTRAINT episodes_number_check CHECK (number >= 1)
);

-- Accounts live in auth; the catalog keeps only their ids (services share no tables).
CREATE TABLE catalog.profiles (
    id         uuid        PRIMARY KEY,
    account_id uuid        NOT NULL,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT profiles_account_name_key UNIQUE (account_id, name)
);
CREATE INDEX profiles_account_idx ON catalog.profiles (account_id);

CREATE TABLE catalog.watchlist (
    profile_id uuid        NOT NULL REFERENCES catalog.profiles (id) ON DELETE CASCADE,
    title_id   uuid        NOT NULL REFERENCES catalog.titles (id) ON DELETE CASCADE,
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (profile_id, title_id)
);

CREATE TABLE catalog.progress (
    profile_id    uuid             NOT NULL REFERENCES catalog.profiles (id) ON DELETE CASCADE,
    -- The movie's id, or the episode's: one row per thing played.
    item_id       uuid             NOT NULL,
    title_id      uuid             NOT NULL REFERENCES catalog.titles (id) ON DELETE CASCADE,
    episode_id    uuid             REFERENCES catalog.episodes (id) ON DELETE CASCADE,
    position_secs double precision NOT NULL,
    duration_secs double precision NOT NULL,
    updated_at    timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (profile_id, item_id)
);
CREATE INDEX progress_recent_idx ON catalog.progress (profile_id, updated_at DESC, item_id);
