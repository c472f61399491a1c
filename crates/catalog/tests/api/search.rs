//! Search: words across title, synopsis and credits, ranked, folded, prefixed, and misspelt
//! words corrected to the catalog's own.

use ottr_catalog::{CatalogSettings, SearchSettings};
use ottr_proto::catalog::v1 as pb;
use sqlx::PgPool;

use crate::helpers::{TestApp, bearer, movie, spawn_app, spawn_app_with};

async fn search(app: &TestApp, query: &str) -> Vec<String> {
    app.search(query).await.unwrap().titles.into_iter().map(|t| t.fields.unwrap().slug).collect()
}

/// Every page of `query` for a viewer, `page_size` at a time, in order.
async fn all_pages(app: &TestApp, query: &str, page_size: u32) -> Vec<String> {
    let mut seen = Vec::new();
    let mut page_token = String::new();
    loop {
        let request = pb::SearchTitlesRequest { query: query.into(), page_size, page_token, ..Default::default() };
        let page = app.catalog.clone().search_titles(bearer(request, &app.viewer)).await.unwrap().into_inner();
        seen.extend(page.titles.into_iter().map(|t| t.fields.unwrap().slug));
        if page.next_page_token.is_empty() {
            return seen;
        }
        page_token = page.next_page_token;
    }
}

fn credited(mut fields: pb::TitleFields, names: &[&str]) -> pb::TitleFields {
    fields.credits = names.iter().map(|name| pb::Credit { name: (*name).into(), role: "cast".into() }).collect();
    fields
}

/// The titles people misspell, and near neighbours that share a word or a beginning with them.
async fn classics(app: &TestApp) {
    let godfather = movie("godfather", "The Godfather", "A crime family's patriarch hands over to his son");
    app.published(credited(godfather, &["Marlon Brando", "Al Pacino"])).await;
    app.published(movie("stranger-things", "Stranger Things", "Kids, a lab and a monster")).await;
    app.published(movie("amelie", "Le Fabuleux Destin d'Amélie Poulain", "Une serveuse à Montmartre")).await;
    app.published(movie("vertigo", "Vertigo", "A detective afraid of heights")).await;
    for (slug, title) in [
        ("godzilla", "Godzilla"),
        ("the-stranger", "The Stranger"),
        ("strange-days", "Strange Days"),
        ("things-to-come", "Things to Come"),
        ("casablanca", "Casablanca"),
    ] {
        app.published(movie(slug, title, "Another film")).await;
    }
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_word_of_the_synopsis_finds_a_title_and_a_title_match_ranks_first(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.published(movie("vienna-story", "A Story", "Black market penicillin in postwar Vienna")).await;
    app.published(movie("vienna", "Vienna", "A city at night")).await;
    app.published(movie("other", "Other", "Nothing to see")).await;
    assert_eq!(search(&app, "penicillin").await, vec!["vienna-story"]);
    assert_eq!(search(&app, "vienna").await, vec!["vienna", "vienna-story"], "the title match first");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn search_ignores_case_and_accents_matches_prefixes_and_credits(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut amelie = movie("amelie", "Le Fabuleux Destin d'Amélie Poulain", "Une serveuse à Montmartre");
    amelie.credits = vec![pb::Credit { name: "Audrey Tautou".into(), role: "cast".into() }];
    app.published(amelie).await;
    for query in ["AMELIE", "amélie", "Améli", "montm", "serveuse montmartre", "tautou", "aud"] {
        assert_eq!(search(&app, query).await, vec!["amelie"], "{query}");
    }
    assert!(search(&app, "montmartre paris").await.is_empty(), "every word must match");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn hostile_queries_are_just_words_and_an_empty_one_is_refused(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.published(movie("quote", "It's a Wonderful Life", "")).await;
    assert_eq!(search(&app, "it's & | ! :* ( wonderful").await, vec!["quote"]);
    let refused = app.search(" &|! ").await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn search_pages_cover_every_match_once_and_hide_drafts_from_viewers(pool: PgPool) {
    let app = spawn_app(pool).await;
    for i in 0..5 {
        app.published(movie(&format!("noir-{i}"), &format!("Noir {i}"), "rain")).await;
    }
    app.create(movie("noir-draft", "Noir draft", "rain")).await;
    let mut seen = all_pages(&app, "noir", 2).await;
    seen.sort();
    assert_eq!(seen, (0..5).map(|i| format!("noir-{i}")).collect::<Vec<_>>());
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_misspelt_query_finds_its_title_in_any_word_order_and_nothing_unrelated(pool: PgPool) {
    let app = spawn_app(pool).await;
    classics(&app).await;
    for (query, slug) in [
        ("godfater", "godfather"),
        ("strnger thngs", "stranger-things"),
        ("thngs strnger", "stranger-things"),
        ("Strnger THNGS", "stranger-things"),
        ("vertgo", "vertigo"),
        ("casablanka", "casablanca"),
        ("gozdilla", "godzilla"),
    ] {
        assert_eq!(search(&app, query).await, vec![slug], "{query}");
    }
    assert_eq!(search(&app, "strnger").await, vec!["the-stranger", "stranger-things"], "the closer title first");
    assert!(search(&app, "strnger daze").await.is_empty(), "every word must still match");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn corrections_fold_accents_and_reach_credits(pool: PgPool) {
    let app = spawn_app(pool).await;
    classics(&app).await;
    for query in ["amelie poulin", "Amélie Poulin", "AMLIE", "poulin amlie", "fabuleux destín amlie"] {
        assert_eq!(search(&app, query).await, vec!["amelie"], "{query}");
    }
    assert_eq!(search(&app, "Strängr Things").await, vec!["stranger-things"]);
    for query in ["marlon brandoo", "pacno", "godfater pacno"] {
        assert_eq!(search(&app, query).await, vec!["godfather"], "{query}");
    }
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn words_as_typed_rank_first_then_corrected_titles_then_corrected_elsewhere(pool: PgPool) {
    let app = spawn_app(pool).await;
    // `vienne` is a prefix of a title word and a word of a synopsis, and one letter from
    // `vienna`, a title word: a correction, found in a title and in a synopsis.
    app.published(movie("vienna-story", "A Story", "Black market penicillin in postwar Vienna")).await;
    app.published(movie("vienna", "Vienna", "A city at night")).await;
    app.published(movie("vienne-night", "Paris", "A night in Vienne")).await;
    app.published(movie("viennese", "Viennese Waltz", "A ball")).await;
    let ranked = vec!["viennese", "vienne-night", "vienna", "vienna-story"];
    assert_eq!(search(&app, "vienne").await, ranked, "as typed (title, synopsis), then corrected (title, synopsis)");
    assert_eq!(search(&app, "vienna").await, vec!["vienna", "vienna-story"], "a word the catalog has is not corrected");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn pages_cover_every_corrected_match_once_in_rank_order(pool: PgPool) {
    let app = spawn_app(pool).await;
    for i in 0..3 {
        app.published(movie(&format!("dock-{i}"), &format!("Dock {i}"), "Harbrook at dawn")).await;
        app.published(movie(&format!("harbor-{i}"), &format!("Harbor {i}"), "rain")).await;
        app.published(movie(&format!("quay-{i}"), &format!("Quay {i}"), "a harbor at night")).await;
    }
    app.create(movie("harbor-draft", "Harbor draft", "rain")).await;
    let whole = search(&app, "harbr").await;
    assert_eq!(whole.len(), 9, "{whole:?}");
    assert!(whole[..3].iter().all(|s| s.starts_with("dock-")), "as typed first: {whole:?}");
    assert!(whole[3..6].iter().all(|s| s.starts_with("harbor-")), "then corrected titles: {whole:?}");
    assert!(whole[6..].iter().all(|s| s.starts_with("quay-")), "then corrected synopses: {whole:?}");
    for page_size in [1, 2, 4] {
        assert_eq!(all_pages(&app, "harbr", page_size).await, whole, "pages of {page_size}");
    }
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_renamed_title_is_corrected_to_by_its_new_words(pool: PgPool) {
    let app = spawn_app(pool).await;
    let title = app.published(movie("untitled", "Untitled", "")).await;
    let mut fields = title.fields.unwrap();
    fields.title = "Metropolis".into();
    let request = pb::UpdateTitleRequest { id: title.id, fields: Some(fields) };
    app.catalog.clone().update_title(bearer(request, &app.editor)).await.unwrap();
    assert_eq!(search(&app, "metropolsi").await, vec!["untitled"]);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn with_fuzzy_search_off_only_the_words_as_typed_match(pool: PgPool) {
    let settings = CatalogSettings { search: SearchSettings { fuzzy: false }, ..Default::default() };
    let app = spawn_app_with(pool, None, settings).await;
    classics(&app).await;
    assert!(search(&app, "godfater").await.is_empty());
    assert_eq!(search(&app, "godfather").await, vec!["godfather"]);
}

/// Queries no fuzzer thought of: letters that folding turns into tsquery syntax, the
/// syntax itself, and NUL.
const HOSTILE: &[&str] = &[
    "ʼ",
    "⑴",
    "'",
    "(",
    ")",
    ":*",
    "&|!<>",
    "\\",
    "\0",
    "a\0b",
    "ʼa",
    "⑴ ⒜ ① ½ ²",
    "it'ʼs",
    "\\'",
    "'\\''",
    "a:* & b",
    "!a | (b <-> c)",
    "ﬁ ß İ ǅ 𝔸",
    "x'); DROP TABLE catalog.titles; --",
    "ʼʼʼ ⑴⑴",
];

/// A deterministic stream of strings over all of Unicode, weighted towards the hostile
/// characters above (xorshift: reproducible without a dependency; a failure names its query).
fn arbitrary_queries(count: usize) -> Vec<String> {
    let specials: Vec<char> = HOSTILE.iter().flat_map(|q| q.chars()).collect();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count)
        .map(|_| {
            let len = 1 + next() % 12;
            (0..len)
                .filter_map(|_| match next() % 4 {
                    0 => Some(specials[(next() % specials.len() as u64) as usize]),
                    1 => char::from_u32((0x20 + next() % 0x5F) as u32),
                    _ => char::from_u32((next() % 0x11_0000) as u32),
                })
                .collect()
        })
        .collect()
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn no_text_at_all_makes_search_fail_on_our_side(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.published(movie("amelie", "Le Fabuleux Destin d'Amélie Poulain", "Une serveuse ʼ à ⑴ Montmartre")).await;
    let queries = HOSTILE.iter().map(|q| (*q).to_owned()).chain(arbitrary_queries(400));
    for query in queries {
        let answer = app.search(&query).await;
        if let Err(status) = answer {
            assert_eq!(status.code(), tonic::Code::InvalidArgument, "{query:?}: {status:?}");
        }
    }
    // Hostile characters around real words leave the words working, prefixes included.
    assert_eq!(search(&app, "ʼamél⑴ & montm:*").await, vec!["amelie"]);
}
