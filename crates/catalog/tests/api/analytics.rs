//! Viewing analytics: plays, viewers, watch time and completions per title and day,
//! counted from position reports. Wall time between reports is made by moving the last
//! report back in the database (`earlier`), so no test sleeps.

use ottr_proto::catalog::v1 as pb;
use sqlx::PgPool;

use crate::{
    helpers::{TestApp, bearer, code, movie, spawn_app, spawn_app_with},
    series::{episode, season, series_fields},
};

async fn report(app: &TestApp, token: &str, profile: &str, title: &str, episode: &str, position: f64, duration: f64) {
    let request = pb::RecordProgressRequest {
        profile_id: profile.into(),
        title_id: title.into(),
        episode_id: episode.into(),
        position_secs: position,
        duration_secs: duration,
    };
    app.library.clone().record_progress(bearer(request, token)).await.unwrap();
}

/// As if the profile's last reports had been made `secs` earlier.
async fn earlier(pool: &PgPool, profile: &str, secs: f64) {
    sqlx::query(
        "UPDATE catalog.progress SET updated_at = updated_at - make_interval(secs => $2) WHERE profile_id = $1::uuid",
    )
    .bind(profile)
    .bind(secs)
    .execute(pool)
    .await
    .unwrap();
}

async fn stats(app: &TestApp, token: &str, title_id: &str, days: i32) -> Result<pb::ViewingStats, tonic::Status> {
    let request = pb::GetViewingStatsRequest { title_id: title_id.into(), days };
    Ok(app.catalog.clone().get_viewing_stats(bearer(request, token)).await?.into_inner())
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn reports_count_plays_viewers_watch_time_and_completions_per_day(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let film = app.published(movie("film", "Film", "")).await;
    let other = app.published(movie("other", "Other", "")).await;
    let ada = app.profile(&app.viewer, "Ada").await;
    let bob = app.profile(&app.other_viewer, "Bob").await;

    // Ada plays 10 s twice, seeks from 20 to 90 in 10 s of wall time (only the wall time
    // counts, plus the 2 s of slack), then watches 6 s into the credits.
    report(&app, &app.viewer, &ada, &film.id, "", 0.0, 100.0).await;
    for position in [10.0, 20.0, 90.0, 96.0] {
        earlier(&pool, &ada, if position == 96.0 { 6.0 } else { 10.0 }).await;
        report(&app, &app.viewer, &ada, &film.id, "", position, 100.0).await;
    }
    // Bob plays 5 s, comes back after 31 minutes (a second play, nothing counted for the
    // gap), then seeks back (counts nothing).
    report(&app, &app.other_viewer, &bob, &film.id, "", 0.0, 100.0).await;
    earlier(&pool, &bob, 10.0).await;
    report(&app, &app.other_viewer, &bob, &film.id, "", 5.0, 100.0).await;
    earlier(&pool, &bob, 31.0 * 60.0).await;
    report(&app, &app.other_viewer, &bob, &film.id, "", 40.0, 100.0).await;
    earlier(&pool, &bob, 10.0).await;
    report(&app, &app.other_viewer, &bob, &film.id, "", 2.0, 100.0).await;
    // Bob also opens the other title.
    report(&app, &app.other_viewer, &bob, &other.id, "", 0.0, 50.0).await;

    let seen = stats(&app, &app.editor, &film.id, 7).await.unwrap();
    assert_eq!(seen.days.len(), 7, "every day of the range");
    assert!(seen.days[..6].iter().all(|d| d.plays == 0 && d.viewers == 0 && d.watch_secs == 0.0));
    let today = seen.days.last().unwrap();
    let total = seen.total.clone().unwrap();
    for figures in [today, &total] {
        assert_eq!(figures.plays, 3, "Ada's one play and Bob's two");
        assert_eq!(figures.viewers, 2);
        assert_eq!(figures.completions, 1, "Ada reached the credits; Bob did not");
        // 10 + 10 + 12 (the seek: 10 s of wall time and the slack) + 6 for Ada, 5 for Bob;
        // the milliseconds the test takes may add a little to the seek.
        assert!((43.0..43.5).contains(&figures.watch_secs), "watch time {}", figures.watch_secs);
    }
    assert_eq!(total.day, "");
    assert!(seen.top.is_empty(), "one title's figures have no top list");

    let everything = stats(&app, &app.editor, "", 0).await.unwrap();
    assert_eq!(everything.days.len(), 30, "30 days when none are asked for");
    let total = everything.total.unwrap();
    assert_eq!((total.plays, total.viewers), (4, 2), "Bob's play of the other title; Bob counted once");
    let top: Vec<&str> = everything.top.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(top, vec!["Film", "Other"], "most watched first");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_series_counts_its_episodes_and_only_staff_read_figures(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let show = app.published(series_fields("show", "Show")).await;
    let first = season(&app, &show.id, 1).await;
    let (one, two) = (episode(&app, &first.id, 1).await, episode(&app, &first.id, 2).await);
    let ada = app.profile(&app.viewer, "Ada").await;
    report(&app, &app.viewer, &ada, &show.id, &one.id, 1790.0, 1800.0).await;
    report(&app, &app.viewer, &ada, &show.id, &two.id, 0.0, 1800.0).await;
    let total = stats(&app, &app.editor, &show.id, 1).await.unwrap().total.unwrap();
    assert_eq!((total.plays, total.viewers, total.completions), (2, 1, 1), "two episodes begun, one finished");

    let refused = stats(&app, &app.viewer, &show.id, 1).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    let too_long = stats(&app, &app.editor, &show.id, 367).await.unwrap_err();
    assert_eq!(code(&too_long), "invalid_argument");
    let unknown = stats(&app, &app.editor, &uuid::Uuid::new_v4().to_string(), 1).await.unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);

    // Erasing the account's data takes its viewing rows with its profiles.
    app.library.clone().erase_my_data(bearer(pb::EraseMyDataRequest {}, &app.viewer)).await.unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM catalog.views").fetch_one(&pool).await.unwrap();
    assert_eq!(rows, 0);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn with_analytics_off_positions_are_kept_and_nothing_is_counted(pool: PgPool) {
    let settings = ottr_catalog::CatalogSettings {
        analytics: ottr_catalog::AnalyticsSettings { enabled: false },
        ..Default::default()
    };
    let app = spawn_app_with(pool.clone(), None, settings).await;
    let film = app.published(movie("film", "Film", "")).await;
    let ada = app.profile(&app.viewer, "Ada").await;
    report(&app, &app.viewer, &ada, &film.id, "", 30.0, 100.0).await;
    let positions: i64 = sqlx::query_scalar("SELECT count(*) FROM catalog.progress").fetch_one(&pool).await.unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM catalog.views").fetch_one(&pool).await.unwrap();
    assert_eq!((positions, rows), (1, 0));
}
