-- media: the progressive MP4 download remuxed from one rung at the end of a transcode
-- (files/<asset>/<attempt>/<rung>.mp4), and its size. NULL when downloads were off or the
-- asset was made before they existed.
ALTER TABLE media.assets
    ADD COLUMN download_key   text,
    ADD COLUMN download_bytes bigint;
