//! Full-text search: words across title, synopsis and credits, ranked, folded, prefixed.

use ottr_proto::catalog::v1 as pb;
use sqlx::PgPool;

use crate::helpers::{TestApp, bearer, movie, spawn_app};

async fn search(app: &TestApp, query: &str) -> Vec<String> {
    app.search(query).await.unwrap().titles.into_iter().map(|t| t.fields.unwrap().slug).collect()
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
    let mut seen = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = app
            .catalog
            .clone()
            .search_titles(bearer(
                pb::SearchTitlesRequest { query: "noir".into(), page_size: 2, page_token, ..Default::default() },
                &app.viewer,
            ))
            .await
            .unwrap()
            .into_inner();
        seen.extend(page.titles.into_iter().map(|t| t.fields.unwrap().slug));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    seen.sort();
    assert_eq!(seen, (0..5).map(|i| format!("noir-{i}")).collect::<Vec<_>>());
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
