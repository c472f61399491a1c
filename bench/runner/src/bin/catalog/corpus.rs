//! A catalog to search: titles, synopses and credits made from word lists in one
//! `INSERT … SELECT` (the same words for the same number on every run), and the queries
//! people type for them, as written and with a typo in each longer word.

use sqlx::PgPool;

const ADJECTIVES: &str = "\
    silent dark golden broken hidden last lost secret wild quiet crimson frozen burning distant empty \
    endless fallen final forgotten gentle hollow iron little lonely long midnight northern ordinary pale \
    perfect restless sacred savage scarlet second shattered shining silver small southern strange sudden \
    sweet tender thin true twisted violent wandering western white wicked winter young bitter blue \
    bright cold cruel deadly deep eternal fading fierce first foreign free glass grand green grey happy \
    haunted heavy high holy honest invisible jade kind late light lucky mad magic mighty modern naked \
    narrow new old open painted poor proud quick rare red rising rough royal rusty sad salt shadow sharp \
    shy simple slow soft solid stolen stone strong summer sunny tall thunder tiny tired velvet vanishing \
    warm weary wet wooden yellow";

const NOUNS: &str = "\
    harbor garden king queen river mountain city night road house storm window mirror heart dream ghost \
    letter island forest ocean desert bridge tower castle station train journey promise silence memory \
    stranger father mother daughter brother sister widow soldier doctor teacher thief hunter killer \
    detective lawyer priest sailor pilot dancer singer painter writer witness prisoner angel devil wolf \
    lion tiger horse crow raven dragon snake fox bear eagle sparrow moon star sun sky rain snow fire \
    water earth diamond pearl rose lily orchid valley canyon lake sea shore beach lighthouse kingdom \
    empire republic village town street alley market palace temple church chapel school college library \
    museum theater circus carnival hotel motel diner kitchen bedroom attic cellar basement garage \
    factory mine farm ranch vineyard orchard meadow field prairie jungle swamp glacier volcano comet \
    planet galaxy universe machine robot engine rocket ship boat submarine airplane balloon bicycle \
    truck taxi clock bell drum guitar piano violin trumpet song dance game war peace love fear hope \
    faith truth lie crime justice revenge honor glory fortune destiny fate chance time future past \
    godfather godmother avenger wanderer drifter outlaw sheriff ranger warrior knight wizard witch \
    vampire zombie monster giant dwarf orphan twin neighbor lover rival enemy friend partner champion \
    legend hero villain emperor things";

const PLACES: &str = "\
    paris vienna london berlin rome tokyo chicago boston texas montana alaska havana cairo lisbon madrid \
    prague moscow istanbul bombay shanghai sydney dublin naples venice brooklyn harlem manhattan \
    casablanca marseille geneva zurich oslo stockholm helsinki warsaw budapest athens jerusalem delhi \
    kyoto osaka seoul manila jakarta bangkok hanoi nairobi lagos dakar tunis rio lima bogotá caracas \
    santiago méxico acapulco memphis nashville detroit denver phoenix montréal";

const VERBS: &str = "\
    finds loses chases follows betrays saves remembers forgets leaves meets hunts guards steals buries \
    discovers escapes crosses defends fights marries loves haunts rebuilds searches questions";

const FIRST_NAMES: &str = "\
    james mary john patricia robert jennifer michael linda william elizabeth david barbara richard susan \
    joseph jessica thomas sarah charles karen daniel lisa matthew betty anthony margaret mark sandra \
    donald ashley steven emily andrew donna joshua michelle kevin amanda brian melissa george deborah \
    ronald rebecca edward sharon jason laura ryan kathleen jacob amy nicholas angela eric anna jonathan \
    emma justin nicole scott helen samuel katherine frank rachel patrick catherine jack maria henry \
    olivia nathan victoria peter audrey marlon chloé zoë rené andrés josé françois hélène søren björn \
    jürgen agnès inés léa";

/// Surnames are two or three of these run together: tens of thousands of distinct names, so
/// the corrections look through a vocabulary the size a real catalog's credits give it.
const SYLLABLES: &str = "\
    ka lo ren mi tas vel dor ni sa mar tin bel ro gan li ves ter on da quin ha rek so mon vi cha el bru \
    no fer ga us le wen tor ia ko stan be rio";

/// The words of a list above.
fn words(list: &str) -> Vec<&str> {
    list.split_whitespace().collect()
}

/// Inserts `count` published titles, `bench-search-1` to `bench-search-{count}`.
pub async fn seed(pool: &PgPool, count: i64) -> sqlx::Result<()> {
    // `pick(n)` is `list[1 + hash(g, n) mod len]`: a fixed pseudo-random word per title and slot.
    sqlx::query(
        "INSERT INTO catalog.titles (id, kind, slug, title, synopsis, credits, credit_names, genres, visibility, published_at)
         SELECT gen_random_uuid(), 'movie', 'bench-search-' || g, title, synopsis,
                jsonb_build_array(jsonb_build_object('name', n1, 'role', 'cast'),
                                  jsonb_build_object('name', n2, 'role', 'cast'),
                                  jsonb_build_object('name', n3, 'role', 'director')),
                n1 || ' ' || n2 || ' ' || n3, ARRAY['drama'], 'published', now()
         FROM (
            SELECT g,
                CASE g % 5
                    WHEN 0 THEN 'The ' || initcap(a1) || ' ' || initcap(w1)
                    WHEN 1 THEN initcap(w1) || ' of the ' || initcap(w2)
                    WHEN 2 THEN initcap(a1) || ' ' || initcap(w1) || ' in ' || initcap(p)
                    WHEN 3 THEN initcap(w1) || ' ' || initcap(w2)
                    ELSE initcap(a1) || ' ' || initcap(w1)
                END AS title,
                'A ' || a2 || ' ' || w2 || ' ' || v || ' the ' || a1 || ' ' || w3 || ' in ' || initcap(p) || '.' AS synopsis,
                initcap(f1) || ' ' || initcap(s1) AS n1, initcap(f2) || ' ' || initcap(s2) AS n2,
                initcap(f3) || ' ' || initcap(s3) AS n3
            FROM (
                SELECT g,
                    adj[1 + (hashint8(g * 32 + 1) & 2147483647) % cardinality(adj)] AS a1,
                    adj[1 + (hashint8(g * 32 + 2) & 2147483647) % cardinality(adj)] AS a2,
                    noun[1 + (hashint8(g * 32 + 3) & 2147483647) % cardinality(noun)] AS w1,
                    noun[1 + (hashint8(g * 32 + 4) & 2147483647) % cardinality(noun)] AS w2,
                    noun[1 + (hashint8(g * 32 + 5) & 2147483647) % cardinality(noun)] AS w3,
                    place[1 + (hashint8(g * 32 + 6) & 2147483647) % cardinality(place)] AS p,
                    verb[1 + (hashint8(g * 32 + 7) & 2147483647) % cardinality(verb)] AS v,
                    first[1 + (hashint8(g * 32 + 8) & 2147483647) % cardinality(first)] AS f1,
                    first[1 + (hashint8(g * 32 + 9) & 2147483647) % cardinality(first)] AS f2,
                    first[1 + (hashint8(g * 32 + 10) & 2147483647) % cardinality(first)] AS f3,
                    (SELECT string_agg(syl[1 + (hashint8(g * 32 + 11 + k) & 2147483647) % cardinality(syl)], '')
                     FROM generate_series(0, 1 + (hashint8(g * 32 + 14) & 1)) k) AS s1,
                    (SELECT string_agg(syl[1 + (hashint8(g * 32 + 15 + k) & 2147483647) % cardinality(syl)], '')
                     FROM generate_series(0, 1 + (hashint8(g * 32 + 18) & 1)) k) AS s2,
                    (SELECT string_agg(syl[1 + (hashint8(g * 32 + 19 + k) & 2147483647) % cardinality(syl)], '')
                     FROM generate_series(0, 1 + (hashint8(g * 32 + 22) & 1)) k) AS s3
                FROM generate_series(1, $1::bigint) g,
                     (SELECT $2::text[] AS adj, $3::text[] AS noun, $4::text[] AS place, $5::text[] AS verb,
                             $6::text[] AS first, $7::text[] AS syl) lists
            ) picks
         ) made",
    )
    .bind(count)
    .bind(words(ADJECTIVES))
    .bind(words(NOUNS))
    .bind(words(PLACES))
    .bind(words(VERBS))
    .bind(words(FIRST_NAMES))
    .bind(words(SYLLABLES))
    .execute(pool)
    .await?;
    // A catalog that has been running a while: autovacuum has moved the titles that one bulk
    // insert queued in the full-text index's pending list into the index proper (until then
    // every search reads the whole list), and the statistics are current.
    sqlx::query("VACUUM ANALYZE catalog.titles, catalog.search_words").execute(pool).await?;
    Ok(())
}

/// A query someone types for a title: the title, and the same with a typo in each word of
/// five letters or more (none when no word is that long).
pub struct Query {
    pub slug: String,
    pub exact: String,
    pub misspelt: Option<String>,
}

/// `count` titles spread over the catalog (the same ones every run) as queries.
pub async fn queries(pool: &PgPool, count: i64) -> sqlx::Result<Vec<Query>> {
    let titles: Vec<(String, String)> =
        sqlx::query_as("SELECT slug, title FROM catalog.titles ORDER BY md5(slug) LIMIT $1")
            .bind(count)
            .fetch_all(pool)
            .await?;
    Ok(titles
        .into_iter()
        .enumerate()
        .map(|(i, (slug, title))| {
            let exact = title.to_lowercase();
            let words: Vec<String> = exact.split(' ').enumerate().map(|(j, w)| misspell(w, i + j)).collect();
            let misspelt = Some(words.join(" ")).filter(|m| *m != exact);
            Query { slug, exact, misspelt }
        })
        .collect())
}

/// One typo in a word of five letters or more, of a kind chosen by `n`: a letter dropped,
/// doubled, swapped with the next, or replaced by its neighbour in the alphabet; never the
/// first letter, which people rarely get wrong.
fn misspell(word: &str, n: usize) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    if chars.len() < 5 {
        return word.to_owned();
    }
    let at = 1 + n % (chars.len() - 2);
    match n % 4 {
        0 => {
            chars.remove(at);
        }
        1 => chars.insert(at, chars[at]),
        2 => chars.swap(at, at + 1),
        _ => chars[at] = if chars[at] == 'z' { 'y' } else { char::from_u32(chars[at] as u32 + 1).unwrap_or('e') },
    }
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::misspell;

    #[test]
    fn one_typo_per_long_word_and_short_words_stay() {
        assert_eq!(misspell("stranger", 0), "sranger");
        assert_eq!(misspell("stranger", 1), "strranger");
        assert_eq!(misspell("stranger", 2), "strnager");
        assert_eq!(misspell("stranger", 3), "straoger");
        assert_eq!(misspell("king", 3), "king");
    }
}
