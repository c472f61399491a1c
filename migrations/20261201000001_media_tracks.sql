-- media: an asset's audio and subtitle renditions, what was left out of them and why,
-- and what was done to the picture (transcode::tracks::Tracks as JSON).
ALTER TABLE media.assets ADD COLUMN tracks jsonb NOT NULL DEFAULT '{}';
