//! Series, seasons and episodes, in order.

use ottr_proto::catalog::v1 as pb;
use sqlx::PgPool;

use crate::helpers::{TestApp, bearer, code, spawn_app};

pub fn series_fields(slug: &str, title: &str) -> pb::TitleFields {
    pb::TitleFields { kind: pb::Kind::Series as i32, slug: slug.into(), title: title.into(), ..Default::default() }
}

pub async fn season(app: &TestApp, series_id: &str, number: u32) -> pb::Season {
    app.catalog
        .clone()
        .create_season(bearer(
            pb::CreateSeasonRequest { series_id: series_id.into(), number, ..Default::default() },
            &app.editor,
        ))
        .await
        .unwrap()
        .into_inner()
}

pub async fn episode(app: &TestApp, season_id: &str, number: u32) -> pb::Episode {
    let fields =
        pb::EpisodeFields { number, title: format!("Episode {number}"), runtime_secs: 1800, ..Default::default() };
    app.catalog
        .clone()
        .create_episode(bearer(
            pb::CreateEpisodeRequest { season_id: season_id.into(), fields: Some(fields) },
            &app.editor,
        ))
        .await
        .unwrap()
        .into_inner()
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_series_lists_its_seasons_and_episodes_in_order_whatever_order_they_were_made(pool: PgPool) {
    let app = spawn_app(pool).await;
    let show = app.published(series_fields("the-wire", "The Wire")).await;
    let s2 = season(&app, &show.id, 2).await;
    let s1 = season(&app, &show.id, 1).await;
    episode(&app, &s2.id, 1).await;
    episode(&app, &s1.id, 3).await;
    episode(&app, &s1.id, 1).await;
    episode(&app, &s1.id, 2).await;

    let tree = app
        .catalog
        .clone()
        .get_series(bearer(pb::GetSeriesRequest { id_or_slug: "the-wire".into(), ..Default::default() }, &app.viewer))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(tree.title.unwrap().id, show.id);
    let shape: Vec<(u32, Vec<u32>)> = tree
        .seasons
        .iter()
        .map(|s| (s.number, s.episodes.iter().map(|e| e.fields.as_ref().unwrap().number).collect()))
        .collect();
    assert_eq!(shape, vec![(1, vec![1, 2, 3]), (2, vec![1])]);
    assert!(tree.seasons[1].episodes.iter().all(|e| e.season_number == 2 && e.series_id == show.id));
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn numbers_are_unique_and_seasons_belong_to_series_only(pool: PgPool) {
    let app = spawn_app(pool).await;
    let show = app.create(series_fields("show", "Show")).await;
    let s1 = season(&app, &show.id, 1).await;
    let again = app
        .catalog
        .clone()
        .create_season(bearer(
            pb::CreateSeasonRequest { series_id: show.id.clone(), number: 1, ..Default::default() },
            &app.editor,
        ))
        .await
        .unwrap_err();
    assert_eq!(again.code(), tonic::Code::AlreadyExists);
    assert_eq!(code(&again), "number_taken");

    episode(&app, &s1.id, 1).await;
    let fields = pb::EpisodeFields { number: 1, title: "Dup".into(), ..Default::default() };
    let dup = app
        .catalog
        .clone()
        .create_episode(bearer(
            pb::CreateEpisodeRequest { season_id: s1.id.clone(), fields: Some(fields) },
            &app.editor,
        ))
        .await
        .unwrap_err();
    assert_eq!(code(&dup), "number_taken");

    let film = app.create(crate::helpers::movie("film", "Film", "")).await;
    let on_movie = app
        .catalog
        .clone()
        .create_season(bearer(
            pb::CreateSeasonRequest { series_id: film.id, number: 1, ..Default::default() },
            &app.editor,
        ))
        .await
        .unwrap_err();
    assert_eq!(on_movie.code(), tonic::Code::InvalidArgument);

    let nowhere = pb::EpisodeFields { number: 1, title: "Lost".into(), ..Default::default() };
    let missing = app
        .catalog
        .clone()
        .create_episode(bearer(
            pb::CreateEpisodeRequest { season_id: uuid::Uuid::new_v4().to_string(), fields: Some(nowhere) },
            &app.editor,
        ))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), tonic::Code::NotFound);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_draft_series_is_hidden_from_viewers(pool: PgPool) {
    let app = spawn_app(pool).await;
    let show = app.create(series_fields("secret-show", "Secret")).await;
    let hidden = app
        .catalog
        .clone()
        .get_series(bearer(pb::GetSeriesRequest { id_or_slug: show.id, ..Default::default() }, &app.viewer))
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), tonic::Code::NotFound);
}

async fn get_episode(app: &TestApp, id: &str, token: &str) -> Result<pb::EpisodeInSeries, tonic::Status> {
    let request = bearer(pb::GetEpisodeRequest { id: id.into(), ..Default::default() }, token);
    app.catalog.clone().get_episode(request).await.map(tonic::Response::into_inner)
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn an_episode_names_its_series_and_the_next_one_across_seasons(pool: PgPool) {
    let app = spawn_app(pool).await;
    let show = app.published(series_fields("the-wire", "The Wire")).await;
    let s1 = season(&app, &show.id, 1).await;
    let s3 = season(&app, &show.id, 3).await;
    let empty = season(&app, &show.id, 2).await;
    let e1 = episode(&app, &s1.id, 1).await;
    let e3 = episode(&app, &s1.id, 3).await;
    let last = episode(&app, &s3.id, 1).await;

    let first = get_episode(&app, &e1.id, &app.viewer).await.unwrap();
    assert_eq!(first.series.unwrap().id, show.id);
    assert_eq!(first.episode.unwrap().id, e1.id);
    assert_eq!(first.next.unwrap().id, e3.id, "a gap in the numbers is skipped");
    let end_of_season = get_episode(&app, &e3.id, &app.viewer).await.unwrap();
    assert_eq!(end_of_season.next.unwrap().id, last.id, "season 2 has no episode, so season 3 follows");
    assert!(get_episode(&app, &last.id, &app.viewer).await.unwrap().next.is_none(), "the last has no next");
    assert!(empty.episodes.is_empty());

    let unknown = get_episode(&app, &uuid::Uuid::new_v4().to_string(), &app.viewer).await.unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);
    let malformed = get_episode(&app, "nope", &app.viewer).await.unwrap_err();
    assert_eq!(malformed.code(), tonic::Code::InvalidArgument);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn an_episode_of_a_draft_series_is_found_by_editors_only(pool: PgPool) {
    let app = spawn_app(pool).await;
    let show = app.create(series_fields("secret-show", "Secret")).await;
    let s1 = season(&app, &show.id, 1).await;
    let e1 = episode(&app, &s1.id, 1).await;
    let hidden = get_episode(&app, &e1.id, &app.viewer).await.unwrap_err();
    assert_eq!(hidden.code(), tonic::Code::NotFound);
    assert_eq!(code(&hidden), "not_found");
    assert!(hidden.message().contains("episode"), "{}", hidden.message());
    assert_eq!(get_episode(&app, &e1.id, &app.editor).await.unwrap().episode.unwrap().id, e1.id);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn two_deletes_at_once_of_the_episodes_sharing_an_asset_name_it_exactly_once(pool: PgPool) {
    let app = spawn_app(pool).await;
    let show = app.published(series_fields("twins", "Twins")).await;
    let s1 = season(&app, &show.id, 1).await;
    let delete = |id: String| {
        let (mut catalog, request) = (app.catalog.clone(), bearer(pb::DeleteEpisodeRequest { id }, &app.editor));
        async move { catalog.delete_episode(request).await.unwrap().into_inner().asset_ids }
    };
    // Each round races the two deletes again: whichever ends last must take the asset, or
    // its objects stay in storage with nothing naming them.
    for round in 0..5u32 {
        let asset = uuid::Uuid::new_v4().to_string();
        let mut ids = Vec::new();
        for number in [2 * round + 1, 2 * round + 2] {
            let fields = pb::EpisodeFields {
                number,
                title: format!("Episode {number}"),
                asset_id: asset.clone(),
                ..Default::default()
            };
            let request = pb::CreateEpisodeRequest { season_id: s1.id.clone(), fields: Some(fields) };
            ids.push(app.catalog.clone().create_episode(bearer(request, &app.editor)).await.unwrap().into_inner().id);
        }
        let (first, second) = tokio::join!(delete(ids[0].clone()), delete(ids[1].clone()));
        let named: Vec<String> = first.into_iter().chain(second).collect();
        assert_eq!(named, vec![asset], "round {round}");
    }
}
