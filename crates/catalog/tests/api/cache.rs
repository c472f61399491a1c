//! The Redis cache: repeated reads come from it, edits invalidate it, and the catalog
//! answers without it.

use std::sync::atomic::Ordering;

use ottr_proto::catalog::v1 as pb;
use sqlx::PgPool;

use crate::helpers::{bearer, movie, spawn_app, spawn_app_with_redis};

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_repeated_read_is_a_cache_hit_and_an_edit_is_seen_at_once(pool: PgPool) {
    let app = spawn_app(pool).await;
    let film = app.published(movie("film", "Film", "")).await;
    app.get(&film.id, None).await.unwrap();
    let hits_before = app.stats.hits.load(Ordering::Relaxed);
    let second = app.get(&film.id, None).await.unwrap();
    assert_eq!(app.stats.hits.load(Ordering::Relaxed), hits_before + 1, "the second read came from Redis");
    assert_eq!(second.fields.as_ref().unwrap().title, "Film");

    let mut fields = second.fields.unwrap();
    fields.title = "Film, edited".into();
    app.catalog
        .clone()
        .update_title(bearer(pb::UpdateTitleRequest { id: film.id.clone(), fields: Some(fields) }, &app.editor))
        .await
        .unwrap();
    assert_eq!(app.get(&film.id, None).await.unwrap().fields.unwrap().title, "Film, edited");
    assert_eq!(app.get("film", None).await.unwrap().fields.unwrap().title, "Film, edited", "by slug too");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_cached_listing_page_never_outlives_a_write(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.published(movie("first", "First", "")).await;
    let list = || {
        let mut catalog = app.catalog.clone();
        async move { catalog.list_titles(pb::ListTitlesRequest::default()).await.unwrap().into_inner().titles.len() }
    };
    assert_eq!(list().await, 1);
    let hits = app.stats.hits.load(Ordering::Relaxed);
    assert_eq!(list().await, 1);
    assert!(app.stats.hits.load(Ordering::Relaxed) > hits, "the page came from Redis");
    let second = app.published(movie("second", "Second", "")).await;
    assert_eq!(list().await, 2, "publishing invalidated the page");
    app.set_visibility(&second.id, pb::Visibility::Draft).await;
    assert_eq!(list().await, 1, "unpublishing too");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn with_redis_on_a_closed_port_every_read_and_write_still_succeeds(pool: PgPool) {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = spawn_app_with_redis(pool, Some(format!("redis://127.0.0.1:{closed}"))).await;
    let film = app.published(movie("film", "Film", "Rain")).await;
    for _ in 0..3 {
        assert_eq!(app.get(&film.id, None).await.unwrap().id, film.id);
        assert_eq!(
            app.catalog.clone().list_titles(pb::ListTitlesRequest::default()).await.unwrap().into_inner().titles.len(),
            1
        );
    }
    let tree = app
        .catalog
        .clone()
        .get_series(pb::GetSeriesRequest { id_or_slug: film.id.clone(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(tree.code(), tonic::Code::NotFound, "a movie is not a series, Redis or not");
    assert_eq!(app.stats.hits.load(Ordering::Relaxed), 0);
    assert!(app.stats.errors.load(Ordering::Relaxed) > 0, "the cache was skipped, and counted as such");
}

/// A Redis of the test's own, on a port of its own, killed when the test ends.
struct OwnRedis(std::process::Child);

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn the_cache_is_used_again_once_redis_comes_back(pool: PgPool) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = spawn_app_with_redis(pool, Some(format!("redis://127.0.0.1:{port}"))).await;
    let film = app.published(movie("film", "Film", "")).await;
    assert!(app.get(&film.id, None).await.is_ok(), "answers while Redis is down");
    assert_eq!(app.stats.hits.load(Ordering::Relaxed), 0);

    let _redis = OwnRedis(
        std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server is installed by scripts/setup.sh"),
    );
    // The client reconnects with backoff (at most 5 s between tries); give it a bounded while.
    let mut reads = 0;
    while app.stats.hits.load(Ordering::Relaxed) == 0 && reads < 200 {
        assert_eq!(app.get(&film.id, None).await.unwrap().id, film.id);
        reads += 1;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(app.stats.hits.load(Ordering::Relaxed) > 0, "no cache hit after {reads} reads with Redis back");
}
