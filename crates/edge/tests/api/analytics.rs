//! Viewing analytics over REST: position reports a viewer's player sends become plays,
//! viewers and watch time that editors read per day, for one title or the whole catalog.

use ottr_proto::catalog::v1 as catalog_pb;
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::{
    episodes::publish,
    helpers::{Stack, bearer, json_of, spawn_stack},
};

/// A published movie (no asset: reports need none) that a new viewer starts to watch:
/// two position reports a moment apart, the first a play; the second 1.5 s on, within
/// the 2 s the catalog allows beyond the wall time between reports. Returns the title's id.
pub async fn watched_movie(stack: &Stack, slug: &str, title: &str) -> String {
    let fields = catalog_pb::TitleFields {
        kind: catalog_pb::Kind::Movie as i32,
        slug: slug.into(),
        title: title.into(),
        ..Default::default()
    };
    let request = catalog_pb::CreateTitleRequest { fields: Some(fields) };
    let id = stack.catalog.clone().create_title(bearer(request, &stack.editor)).await.unwrap().into_inner().id;
    publish(stack, &id, catalog_pb::Visibility::Published).await;
    let viewer = stack.register(&format!("{slug}@example.org")).await;
    let profile = json_of(stack.authed(Method::POST, "/api/v1/profiles", &viewer).json(&json!({"name": "Ada"}))).await;
    let path = format!("/api/v1/profiles/{}/progress", profile["id"].as_str().unwrap());
    for position in [0.0, 1.5] {
        let report = json!({"title_id": id, "position_secs": position, "duration_secs": 100.0});
        let response = stack.authed(Method::PUT, &path, &viewer).json(&report).send().await.unwrap();
        assert_eq!(response.status(), 200);
    }
    id
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn editors_read_viewing_per_day_for_a_title_and_the_catalog(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    let film = watched_movie(&stack, "film", "Film").await;

    let title: Value =
        json_of(stack.authed(Method::GET, &format!("/api/v1/titles/{film}/analytics?days=7"), &stack.editor)).await;
    assert_eq!(title["days"].as_array().unwrap().len(), 7, "{title}");
    let today = &title["days"][6];
    assert_eq!((today["plays"].as_i64(), today["viewers"].as_i64()), (Some(1), Some(1)), "{title}");
    let watched = today["watch_secs"].as_f64().unwrap();
    assert_eq!(watched, 1.5, "the position gained between the reports");
    assert_eq!(title["total"]["plays"], 1);

    let catalog: Value = json_of(stack.authed(Method::GET, "/api/v1/analytics", &stack.editor)).await;
    assert_eq!(catalog["days"].as_array().unwrap().len(), 30, "{catalog}");
    assert_eq!(catalog["top"][0]["title"], "Film", "{catalog}");
    assert_eq!(catalog["top"][0]["plays"], 1, "the figures sit beside the title: {catalog}");

    let viewer = stack.viewer().await;
    let refused = stack.authed(Method::GET, "/api/v1/analytics", &viewer).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    let bad = stack.authed(Method::GET, "/api/v1/analytics?days=0", &stack.editor).send().await.unwrap();
    assert_eq!(bad.status(), 200, "0 means the default range");
    let bad = stack.authed(Method::GET, "/api/v1/analytics?days=400", &stack.editor).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["code"], "invalid_argument");
}
