-- catalog: viewing analytics. One row per title, UTC day, profile and item (the movie, or
-- an episode of a series), updated by the same statement that records a position report.
-- The key leads with the viewer's own columns after the title and day, so two viewers of
-- one title never wait on the same row: a popular title is not a hot spot for progress
-- writes. Per-day figures are sums over these rows when an editor asks.
CREATE TABLE catalog.views (
    title_id    uuid             NOT NULL REFERENCES catalog.titles (id) ON DELETE CASCADE,
    day         date             NOT NULL,
    profile_id  uuid             NOT NULL REFERENCES catalog.profiles (id) ON DELETE CASCADE,
    item_id     uuid             NOT NULL,
    -- Sessions begun this day: a report with no report of this item in the 30 minutes before.
    plays       integer          NOT NULL DEFAULT 0,
    -- Seconds of playback: position gained between reports, never more than the wall time between them.
    watch_secs  double precision NOT NULL DEFAULT 0,
    -- Reached the credits (the same threshold as "watched" in continue-watching).
    completed   boolean          NOT NULL DEFAULT false,
    PRIMARY KEY (title_id, day, profile_id, item_id)
);
-- Catalog-wide figures read by day.
CREATE INDEX views_day_idx ON catalog.views (day);
-- Profile deletes cascade through this.
CREATE INDEX views_profile_idx ON catalog.views (profile_id);
