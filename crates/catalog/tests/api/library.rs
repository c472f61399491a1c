//! Profiles, watchlists, progress, history and continue-watching.

use ottr_proto::catalog::v1 as pb;
use sqlx::PgPool;

use crate::{
    helpers::{TestApp, bearer, code, movie, spawn_app},
    series::{episode, season, series_fields},
};

/// The viewer's RecordProgress, refusals included.
async fn record(
    app: &TestApp,
    profile: &str,
    title: &str,
    episode: &str,
    position: f64,
    duration: f64,
) -> Result<pb::Progress, tonic::Status> {
    let request = pb::RecordProgressRequest {
        profile_id: profile.into(),
        title_id: title.into(),
        episode_id: episode.into(),
        position_secs: position,
        duration_secs: duration,
    };
    Ok(app.library.clone().record_progress(bearer(request, &app.viewer)).await?.into_inner())
}

async fn continue_watching(app: &TestApp, profile: &str) -> Vec<pb::Progress> {
    app.library
        .clone()
        .continue_watching(bearer(pb::ContinueWatchingRequest { profile_id: profile.into() }, &app.viewer))
        .await
        .unwrap()
        .into_inner()
        .items
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn an_account_has_at_most_five_profiles_with_distinct_names(pool: PgPool) {
    let app = spawn_app(pool).await;
    for name in ["Ada", "Bob", "Cy", "Di", "Ed"] {
        app.profile(&app.viewer, name).await;
    }
    let sixth = app.try_profile(&app.viewer, "Flo").await.unwrap_err();
    assert_eq!(sixth.code(), tonic::Code::FailedPrecondition);
    assert_eq!(code(&sixth), "profile_limit_reached");
    let listed = app.library.clone().list_profiles(bearer(pb::ListProfilesRequest {}, &app.viewer)).await.unwrap();
    assert_eq!(listed.into_inner().profiles.len(), 5);

    app.profile(&app.other_viewer, "Ada").await;
    let dup = app.try_profile(&app.other_viewer, "Ada").await.unwrap_err();
    assert_eq!(code(&dup), "profile_name_taken");
    let anonymous = app.library.clone().list_profiles(pb::ListProfilesRequest {}).await.unwrap_err();
    assert_eq!(anonymous.code(), tonic::Code::Unauthenticated);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn adding_twice_to_a_watchlist_keeps_one_entry_and_removal_works(pool: PgPool) {
    let app = spawn_app(pool).await;
    let profile = app.profile(&app.viewer, "Ada").await;
    let film = app.published(movie("film", "Film", "")).await;
    let entry = pb::WatchlistRequest { profile_id: profile.clone(), title_id: film.id.clone() };
    for _ in 0..2 {
        app.library.clone().add_to_watchlist(bearer(entry.clone(), &app.viewer)).await.unwrap();
    }
    let list = |app: &TestApp| {
        let mut library = app.library.clone();
        let request = bearer(pb::ListWatchlistRequest { profile_id: profile.clone() }, &app.viewer);
        async move { library.list_watchlist(request).await.unwrap().into_inner().titles }
    };
    assert_eq!(list(&app).await.iter().map(|t| t.id.clone()).collect::<Vec<_>>(), vec![film.id.clone()]);
    app.library.clone().remove_from_watchlist(bearer(entry.clone(), &app.viewer)).await.unwrap();
    assert!(list(&app).await.is_empty());

    let draft = app.create(movie("draft", "Draft", "")).await;
    let hidden = pb::WatchlistRequest { profile_id: profile, title_id: draft.id };
    let refused = app.library.clone().add_to_watchlist(bearer(hidden, &app.viewer)).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::NotFound, "a draft cannot be added by a viewer");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn another_accounts_profile_is_not_found(pool: PgPool) {
    let app = spawn_app(pool).await;
    let theirs = app.profile(&app.other_viewer, "Theirs").await;
    let film = app.published(movie("film", "Film", "")).await;
    let mut library = app.library.clone();
    let add = pb::WatchlistRequest { profile_id: theirs.clone(), title_id: film.id.clone() };
    let refusals = [
        library.add_to_watchlist(bearer(add, &app.viewer)).await.unwrap_err(),
        library
            .list_watchlist(bearer(pb::ListWatchlistRequest { profile_id: theirs.clone() }, &app.viewer))
            .await
            .unwrap_err(),
        record(&app, &theirs, &film.id, "", 10.0, 100.0).await.unwrap_err(),
        library
            .list_history(bearer(
                pb::ListHistoryRequest { profile_id: theirs.clone(), ..Default::default() },
                &app.viewer,
            ))
            .await
            .unwrap_err(),
        library
            .continue_watching(bearer(pb::ContinueWatchingRequest { profile_id: theirs }, &app.viewer))
            .await
            .unwrap_err(),
    ];
    for refused in refusals {
        assert_eq!(refused.code(), tonic::Code::NotFound);
        assert_eq!(code(&refused), "not_found");
    }
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn continue_watching_holds_the_started_and_unfinished_and_the_next_episode(pool: PgPool) {
    let app = spawn_app(pool).await;
    let profile = app.profile(&app.viewer, "Ada").await;
    let peeked = app.published(movie("peeked", "Peeked", "")).await;
    let halfway = app.published(movie("halfway", "Halfway", "")).await;
    let done = app.published(movie("done", "Done", "")).await;
    let show = app.published(series_fields("show", "Show")).await;
    let s1 = season(&app, &show.id, 1).await;
    let s2 = season(&app, &show.id, 2).await;
    let e1 = episode(&app, &s1.id, 1).await;
    let s2e1 = episode(&app, &s2.id, 1).await;
    let finale = app.published(series_fields("finale", "Finale")).await;
    let f1 = season(&app, &finale.id, 1).await;
    let last = episode(&app, &f1.id, 1).await;

    record(&app, &profile, &peeked.id, "", 2.0, 100.0).await.unwrap(); // 2%: a peek
    record(&app, &profile, &halfway.id, "", 50.0, 100.0).await.unwrap(); // 50%: continue
    record(&app, &profile, &done.id, "", 96.0, 100.0).await.unwrap(); // 96%: watched
    record(&app, &profile, "", &e1.id, 1790.0, 1800.0).await.unwrap(); // last of season 1 watched
    record(&app, &profile, "", &last.id, 1800.0, 1800.0).await.unwrap(); // nothing after it

    let items = continue_watching(&app, &profile).await;
    let summary: Vec<(String, String, bool)> = items
        .iter()
        .map(|p| {
            let slug = p.title.as_ref().unwrap().fields.as_ref().unwrap().slug.clone();
            let episode = p.episode.as_ref().map(|e| e.id.clone()).unwrap_or_default();
            (slug, episode, p.up_next)
        })
        .collect();
    assert_eq!(
        summary,
        vec![("show".into(), s2e1.id.clone(), true), ("halfway".into(), String::new(), false)],
        "most recent first; the next season's first episode is up next"
    );
    assert_eq!(items[0].position_secs, 0.0);
    assert_eq!(items[1].position_secs, 50.0);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn progress_upserts_and_history_lists_newest_first(pool: PgPool) {
    let app = spawn_app(pool).await;
    let profile = app.profile(&app.viewer, "Ada").await;
    let a = app.published(movie("a", "A", "")).await;
    let b = app.published(movie("b", "B", "")).await;
    record(&app, &profile, &a.id, "", 10.0, 100.0).await.unwrap();
    record(&app, &profile, &b.id, "", 20.0, 100.0).await.unwrap();
    let again = record(&app, &profile, &a.id, "", 99.0, 100.0).await.unwrap();
    assert!(again.finished);

    let history = app
        .library
        .clone()
        .list_history(bearer(
            pb::ListHistoryRequest { profile_id: profile.clone(), page_size: 1, ..Default::default() },
            &app.viewer,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(history.items.len(), 1);
    assert_eq!(history.items[0].title.as_ref().unwrap().id, a.id, "the upsert moved A to the top");
    assert_eq!(history.items[0].position_secs, 99.0);
    let rest = app
        .library
        .clone()
        .list_history(bearer(
            pb::ListHistoryRequest { profile_id: profile.clone(), page_size: 5, page_token: history.next_page_token },
            &app.viewer,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.items.iter().map(|p| p.title.as_ref().unwrap().id.clone()).collect::<Vec<_>>(), vec![b.id]);
    assert!(rest.next_page_token.is_empty());

    let series = app.published(series_fields("s", "S")).await;
    let bad = record(&app, &profile, &series.id, "", 1.0, 10.0).await.unwrap_err();
    assert_eq!(bad.metadata().get("ottr-error-field").unwrap(), "episode_id");
}
