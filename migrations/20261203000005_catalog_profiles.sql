-- catalog: kids profiles. A profile with a maximum maturity rating sees only titles rated
-- at or below it, in browse, search, its lists and playback. Ratings of every system map
-- to one scale (crates/catalog/src/domain/maturity.rs has the same table): 0 all ages,
-- 1 from 7, 2 from 13, 3 adults, 4 unrated or unknown (never shown to kids).
ALTER TABLE catalog.profiles ADD COLUMN max_maturity_rating text;

CREATE FUNCTION catalog.maturity_level(rating text) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE upper(btrim(rating))
        WHEN 'G' THEN 0 WHEN 'TV-Y' THEN 0 WHEN 'TV-G' THEN 0 WHEN 'U' THEN 0
        WHEN 'PG' THEN 1 WHEN 'TV-Y7' THEN 1 WHEN 'TV-Y7-FV' THEN 1 WHEN 'TV-PG' THEN 1
        WHEN 'PG-13' THEN 2 WHEN 'TV-14' THEN 2 WHEN '12' THEN 2 WHEN '12A' THEN 2
        WHEN 'R' THEN 3 WHEN 'NC-17' THEN 3 WHEN 'TV-MA' THEN 3 WHEN '15' THEN 3 WHEN '18' THEN 3 WHEN 'R18' THEN 3
        ELSE 4 END $$;
