-- Search that forgives: a misspelt word is corrected to the catalog's own words by trigram
-- similarity (pg_trgm), and the corrected query goes through the same full-text index.
-- This is PostgreSQL's own recipe for text search with pg_trgm ("Text Search Integration" in
-- the pg_trgm documentation). Measured against trigram indexes on the titles themselves,
-- which must compare the whole query with each candidate title: two misspelt words and one
-- right word with the other missing score the same there, so every title holding any one
-- query word had to be fetched and checked (12-16 ms a query on 40,000 titles, against
-- 1-6 ms this way). Here the trigram index holds short words, where similarity means
-- something, and each word of the query must still match, as in the full-text search.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Every distinct word of every title and credited name, folded and split exactly as the
-- search documents are, so a correction is always a word the full-text index knows.
-- Synopses are left out: their words are many, and a title should not be found by a
-- guess at a word in its synopsis. Words of titles since changed or removed stay: they
-- only offer a correction that matches nothing.
CREATE TABLE catalog.search_words (
    word text NOT NULL,
    CONSTRAINT search_words_pkey PRIMARY KEY (word)
);
-- GIN rather than GiST: the words are read on every search and written only when a title
-- brings a new one. Without fastupdate, a new word goes straight into the index: with it,
-- new words wait in a pending list that every search must read whole (40,000 words
-- bulk-loaded made the planner give up the index and read the table, 50 ms a word) until
-- a vacuum comes by.
CREATE INDEX search_words_trgm_idx ON catalog.search_words USING gin (word gin_trgm_ops) WITH (fastupdate = off);

-- Statement-level, so a bulk insert adds its words in one statement. Sorted, so two
-- transactions adding the same new words take their locks in the same order and cannot
-- deadlock.
CREATE FUNCTION catalog.add_search_words() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO catalog.search_words (word)
    SELECT DISTINCT word
    FROM changed, unnest(tsvector_to_array(
        to_tsvector('simple', catalog.fold(changed.title || ' ' || changed.credit_names)))) AS word
    ORDER BY word
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

-- PostgreSQL allows a transition table only on a trigger with one event and no column list.
CREATE TRIGGER titles_search_words_insert AFTER INSERT ON catalog.titles
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION catalog.add_search_words();
CREATE TRIGGER titles_search_words_update AFTER UPDATE ON catalog.titles
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION catalog.add_search_words();

INSERT INTO catalog.search_words (word)
SELECT DISTINCT word
FROM catalog.titles t, unnest(tsvector_to_array(to_tsvector('simple', catalog.fold(t.title || ' ' || t.credit_names)))) AS word
ORDER BY word
ON CONFLICT DO NOTHING;
