//! Profiles over REST: renamed, made kids profiles and removed by their account only, and
//! a kids profile's limit holds for playback as for browsing.

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;

use ottr_proto::catalog::v1 as catalog_pb;

use crate::{
    episodes::publish,
    helpers::{bearer, json_of, spawn_stack},
};

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_kids_profile_plays_only_within_its_limit_and_only_its_account_renames_or_removes_it(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    // The playable movie is unrated, which counts as adult; a G-rated one plays the same asset.
    let adult = stack.playable_movie().await;
    let asset = json_of(stack.authed(Method::GET, &format!("/api/v1/titles/{adult}"), &stack.editor)).await;
    let fields = catalog_pb::TitleFields {
        kind: catalog_pb::Kind::Movie as i32,
        slug: "cartoon".into(),
        title: "Cartoon".into(),
        maturity_rating: "G".into(),
        asset_id: asset["asset_id"].as_str().unwrap().into(),
        ..Default::default()
    };
    let create = bearer(catalog_pb::CreateTitleRequest { fields: Some(fields) }, &stack.editor);
    let cartoon = stack.catalog.clone().create_title(create).await.unwrap().into_inner().id;
    publish(&stack, &cartoon, catalog_pb::Visibility::Published).await;

    let viewer = stack.viewer().await;
    let kid = json!({"name": "Kid", "kids": true, "max_maturity_rating": "PG"});
    let kid: Value = json_of(stack.authed(Method::POST, "/api/v1/profiles", &viewer).json(&kid)).await;
    assert_eq!((&kid["kids"], &kid["max_maturity_rating"]), (&json!(true), &json!("PG")), "{kid}");
    let kid = kid["id"].as_str().unwrap().to_owned();
    let play = |title: &str, profile: &str| {
        let path = format!("/api/v1/titles/{title}/playback?profile={profile}");
        let request = stack.authed(Method::GET, &path, &viewer);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(play(&cartoon, &kid).await, 200);
    assert_eq!(play(&adult, &kid).await, 404, "above the kids profile's limit: not found");
    assert_eq!(play(&adult, "").await, 200, "without the profile, the account plays it");

    // Only the account that owns a profile changes or removes it; to anyone else it does not exist.
    let path = format!("/api/v1/profiles/{kid}");
    let other = stack.register("other@example.org").await;
    let rename = json!({"name": "Kiddo", "kids": true, "max_maturity_rating": "G"});
    let refused = stack.authed(Method::PUT, &path, &other).json(&rename).send().await.unwrap();
    assert_eq!(refused.status(), 404);
    assert_eq!(stack.authed(Method::DELETE, &path, &other).send().await.unwrap().status(), 404);
    let renamed: Value = json_of(stack.authed(Method::PUT, &path, &viewer).json(&rename)).await;
    assert_eq!((&renamed["name"], &renamed["max_maturity_rating"]), (&json!("Kiddo"), &json!("G")), "{renamed}");

    // A grown-up profile again: the limit is lifted.
    let grown = json!({"name": "Kiddo", "kids": false});
    let grown: Value = json_of(stack.authed(Method::PUT, &path, &viewer).json(&grown)).await;
    assert_eq!(grown["kids"], false, "{grown}");
    assert_eq!(play(&adult, &kid).await, 200);

    assert_eq!(stack.authed(Method::DELETE, &path, &viewer).send().await.unwrap().status(), 204);
    let listed = json_of(stack.authed(Method::GET, "/api/v1/profiles", &viewer)).await;
    assert!(listed.as_array().unwrap().iter().all(|p| p["id"] != kid.as_str()), "{listed}");
    assert_eq!(stack.authed(Method::DELETE, &path, &viewer).send().await.unwrap().status(), 404, "gone already");
}
