-- The highest part number handed out for an upload so far, recorded or not: parts sent to
-- the store by presigned URL (the edge's tus PATCH) use numbers reserved here, and every
-- writer numbers its parts above it, so no two senders ever write the same part number.
ALTER TABLE media.uploads ADD COLUMN parts_issued integer NOT NULL DEFAULT 0;
