//! Profiles are renamed and removed, and a kids profile sees only what is rated for it:
//! in browse, search, single titles and series, its lists and continue-watching.

use ottr_proto::catalog::v1 as pb;
use sqlx::PgPool;

use crate::{
    helpers::{TestApp, bearer, code, movie, spawn_app},
    series::{episode, season, series_fields},
};

fn rated(slug: &str, rating: &str) -> pb::TitleFields {
    pb::TitleFields { maturity_rating: rating.into(), ..movie(slug, slug, "") }
}

async fn kids_profile(app: &TestApp, name: &str, rating: &str) -> Result<pb::Profile, tonic::Status> {
    let request = pb::CreateProfileRequest { name: name.into(), kids: true, max_maturity_rating: rating.into() };
    Ok(app.library.clone().create_profile(bearer(request, &app.viewer)).await?.into_inner())
}

async fn listed(app: &TestApp, profile: &str) -> Vec<String> {
    let request = pb::ListTitlesRequest { profile_id: profile.into(), ..Default::default() };
    let page = app.catalog.clone().list_titles(bearer(request, &app.viewer)).await.unwrap().into_inner();
    let mut slugs: Vec<String> = page.titles.into_iter().map(|t| t.fields.unwrap().slug).collect();
    slugs.sort();
    slugs
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn profiles_are_renamed_made_kids_and_removed_by_their_account_only(pool: PgPool) {
    let app = spawn_app(pool).await;
    let kid = kids_profile(&app, "Kid", "").await.unwrap();
    assert!(kid.kids);
    assert_eq!(kid.max_maturity_rating, "PG", "the default limit");
    let adult_limit = kids_profile(&app, "Teen", "R").await.unwrap_err();
    assert_eq!(code(&adult_limit), "invalid_argument", "R is no kids limit");

    let update = |id: &str, name: &str, kids: bool, rating: &str| pb::UpdateProfileRequest {
        profile_id: id.into(),
        name: name.into(),
        kids,
        max_maturity_rating: rating.into(),
    };
    let renamed =
        app.library.clone().update_profile(bearer(update(&kid.id, "Junior", true, "tv-14"), &app.viewer)).await;
    let renamed = renamed.unwrap().into_inner();
    assert_eq!((renamed.name.as_str(), renamed.max_maturity_rating.as_str()), ("Junior", "TV-14"));
    let grown = app.library.clone().update_profile(bearer(update(&kid.id, "Junior", false, ""), &app.viewer)).await;
    assert!(!grown.unwrap().into_inner().kids);

    let foreign = bearer(update(&kid.id, "Mine", false, ""), &app.other_viewer);
    let foreign = app.library.clone().update_profile(foreign).await;
    assert_eq!(foreign.unwrap_err().code(), tonic::Code::NotFound, "another account's profile is not there");
    let remove = |token: &str| {
        let request = bearer(pb::DeleteProfileRequest { profile_id: kid.id.clone() }, token);
        let mut library = app.library.clone();
        async move { library.delete_profile(request).await }
    };
    assert_eq!(remove(&app.other_viewer).await.unwrap_err().code(), tonic::Code::NotFound);
    remove(&app.viewer).await.unwrap();
    assert_eq!(remove(&app.viewer).await.unwrap_err().code(), tonic::Code::NotFound);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_kids_profile_sees_only_what_is_rated_for_it_everywhere(pool: PgPool) {
    let app = spawn_app(pool).await;
    let cartoon = app.published(rated("cartoon", "G")).await;
    app.published(rated("family", "TV-PG")).await;
    let thriller = app.published(rated("thriller", "R")).await;
    app.published(rated("unrated", "")).await;
    let show =
        app.published(pb::TitleFields { maturity_rating: "TV-MA".into(), ..series_fields("dark", "Dark") }).await;
    let e1 = episode(&app, &season(&app, &show.id, 1).await.id, 1).await;
    let kid = kids_profile(&app, "Kid", "PG").await.unwrap();
    let grown = app.profile(&app.viewer, "Me").await;

    assert_eq!(listed(&app, &kid.id).await, vec!["cartoon", "family"], "unrated and mature titles are left out");
    let search = |query: &str, profile: &str| {
        let request = pb::SearchTitlesRequest { query: query.into(), profile_id: profile.into(), ..Default::default() };
        let mut catalog = app.catalog.clone();
        let request = bearer(request, &app.viewer);
        async move { catalog.search_titles(request).await.unwrap().into_inner().titles.len() }
    };
    assert_eq!(search("thriller", &kid.id).await, 0, "search leaves it out too");
    assert_eq!(search("thriller", &grown).await, 1);
    assert_eq!(listed(&app, &grown).await.len(), 5, "a grown-up profile sees everything");
    assert_eq!(listed(&app, "").await.len(), 5);

    let get = |id: &str, profile: &str| {
        let request = bearer(pb::GetTitleRequest { id_or_slug: id.into(), profile_id: profile.into() }, &app.viewer);
        let mut catalog = app.catalog.clone();
        async move { catalog.get_title(request).await }
    };
    assert_eq!(get(&thriller.id, &kid.id).await.unwrap_err().code(), tonic::Code::NotFound);
    assert!(get(&thriller.id, &grown).await.is_ok());
    assert!(get(&cartoon.id, &kid.id).await.is_ok());
    let foreign =
        bearer(pb::GetTitleRequest { id_or_slug: cartoon.id.clone(), profile_id: kid.id.clone() }, &app.other_viewer);
    assert_eq!(
        app.catalog.clone().get_title(foreign).await.unwrap_err().code(),
        tonic::Code::NotFound,
        "not your profile"
    );

    let episode_request = bearer(pb::GetEpisodeRequest { id: e1.id.clone(), profile_id: kid.id.clone() }, &app.viewer);
    assert_eq!(app.catalog.clone().get_episode(episode_request).await.unwrap_err().code(), tonic::Code::NotFound);
    let series_request =
        bearer(pb::GetSeriesRequest { id_or_slug: show.id.clone(), profile_id: kid.id.clone() }, &app.viewer);
    assert_eq!(app.catalog.clone().get_series(series_request).await.unwrap_err().code(), tonic::Code::NotFound);

    // Its lists: the mature title cannot be added, and one rated up later drops out.
    let add = |title: &str| {
        let request = bearer(pb::WatchlistRequest { profile_id: kid.id.clone(), title_id: title.into() }, &app.viewer);
        let mut library = app.library.clone();
        async move { library.add_to_watchlist(request).await }
    };
    assert_eq!(add(&thriller.id).await.unwrap_err().code(), tonic::Code::NotFound);
    add(&cartoon.id).await.unwrap();
    let report = pb::RecordProgressRequest {
        profile_id: kid.id.clone(),
        title_id: cartoon.id.clone(),
        position_secs: 60.0,
        duration_secs: 600.0,
        ..Default::default()
    };
    app.library.clone().record_progress(bearer(report, &app.viewer)).await.unwrap();
    let resume = |profile: &str| {
        let request = bearer(pb::ContinueWatchingRequest { profile_id: profile.into() }, &app.viewer);
        let mut library = app.library.clone();
        async move { library.continue_watching(request).await.unwrap().into_inner().items.len() }
    };
    assert_eq!(resume(&kid.id).await, 1);
    let mut fields = cartoon.fields.clone().unwrap();
    fields.maturity_rating = "R".into();
    let update = pb::UpdateTitleRequest { id: cartoon.id.clone(), fields: Some(fields) };
    app.catalog.clone().update_title(bearer(update, &app.editor)).await.unwrap();
    assert_eq!(resume(&kid.id).await, 0, "rated R since: gone from continue-watching");
    let list = bearer(pb::ListWatchlistRequest { profile_id: kid.id.clone() }, &app.viewer);
    assert!(app.library.clone().list_watchlist(list).await.unwrap().into_inner().titles.is_empty());
    assert_eq!(listed(&app, &kid.id).await, vec!["family"]);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn the_sql_scale_and_the_services_agree_on_every_rating(pool: PgPool) {
    for rating in [
        "G", "tv-y", "TV-G", "U", "PG", "TV-Y7", "TV-Y7-FV", "TV-PG", "PG-13", "TV-14", "12", "12A", "R", "NC-17",
        "TV-MA", "15", "18", "R18", "", "X-RATED", " pg ",
    ] {
        let level: i32 =
            sqlx::query_scalar("SELECT catalog.maturity_level($1)").bind(rating).fetch_one(&pool).await.unwrap();
        assert_eq!(level, ottr_catalog::domain::maturity::level(rating), "{rating:?}");
    }
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn erasing_an_account_removes_its_profiles_lists_and_history_and_no_one_elses(pool: PgPool) {
    let app = spawn_app(pool).await;
    let film = app.published(movie("film", "Film", "")).await;
    let mine = app.profile(&app.viewer, "Me").await;
    let theirs = app.profile(&app.other_viewer, "Them").await;
    for (profile, token) in [(&mine, &app.viewer), (&theirs, &app.other_viewer)] {
        let request = bearer(pb::WatchlistRequest { profile_id: profile.clone(), title_id: film.id.clone() }, token);
        app.library.clone().add_to_watchlist(request).await.unwrap();
    }
    let erased = app.library.clone().erase_my_data(bearer(pb::EraseMyDataRequest {}, &app.viewer)).await.unwrap();
    assert_eq!(erased.into_inner().profiles_deleted, 1);
    let listed = app.library.clone().list_profiles(bearer(pb::ListProfilesRequest {}, &app.viewer)).await.unwrap();
    assert!(listed.into_inner().profiles.is_empty());
    let list = bearer(pb::ListWatchlistRequest { profile_id: theirs }, &app.other_viewer);
    assert_eq!(
        app.library.clone().list_watchlist(list).await.unwrap().into_inner().titles.len(),
        1,
        "another account keeps its own"
    );
    let anonymous = app.library.clone().erase_my_data(pb::EraseMyDataRequest {}).await.unwrap_err();
    assert_eq!(anonymous.code(), tonic::Code::Unauthenticated);
}
