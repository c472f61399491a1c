-- catalog: whether a title offers its MP4 download to those who may play it (a series:
-- for every episode). Off unless an editor turns it on: a download leaves the service.
ALTER TABLE catalog.titles ADD COLUMN downloadable boolean NOT NULL DEFAULT false;
