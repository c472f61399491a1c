//! Full-text search: words across title, synopsis and credits, ranked, folded, prefixed.

use ottr_proto::catalog::v1 as pb;
use sqlx::PgPool;

use crate::helpers::{TestApp, bearer, movie, spawn_app};

async fn search(app: &TestApp, query: &str) -> Vec<String> {
    app.catalog
        .clone()
        .search_titles(pb::SearchTitlesRequest { query: query.into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .titles
        .into_iter()
        .map(|t| t.fields.unwrap().slug)
        .collect()
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
    let refused = app
        .catalog
        .clone()
        .search_titles(pb::SearchTitlesRequest { query: " &|! ".into(), ..Default::default() })
        .await
        .unwrap_err();
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
                pb::SearchTitlesRequest { query: "noir".into(), page_size: 2, page_token },
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
