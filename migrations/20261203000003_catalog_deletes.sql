-- catalog: deletes find what they remove by index. A title's delete cascades to its
-- watchlist entries and viewing history, an episode's to its history, and an asset's
-- delete finds the titles and episodes that played it.
CREATE INDEX watchlist_title_idx ON catalog.watchlist (title_id);
CREATE INDEX progress_title_idx ON catalog.progress (title_id);
CREATE INDEX progress_episode_idx ON catalog.progress (episode_id) WHERE episode_id IS NOT NULL;
CREATE INDEX titles_asset_idx ON catalog.titles (asset_id) WHERE asset_id IS NOT NULL;
CREATE INDEX episodes_asset_idx ON catalog.episodes (asset_id) WHERE asset_id IS NOT NULL;
