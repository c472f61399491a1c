//! Episodes play like movies: REST, native gRPC and gRPC-web ask the edge's playback
//! service, the series' visibility decides who may, and the answer names the next episode.

use ottr_proto::{
    catalog::v1 as catalog_pb,
    playback::v1::{self as playback_pb, playback_service_client::PlaybackServiceClient},
    prost::Message,
};
use serde_json::Value;
use sqlx::PgPool;

use crate::{
    grpc::{frame, frames},
    helpers::{Stack, bearer, spawn_stack},
};

/// Episode ids of a series: S1E1 and S1E2 play `asset`, S2E1 has nothing attached yet.
pub struct Show {
    pub id: String,
    pub episodes: [String; 3],
}

pub async fn series_with_episodes(stack: &Stack, asset: &str) -> Show {
    let mut catalog = stack.catalog.clone();
    let fields = catalog_pb::TitleFields {
        kind: catalog_pb::Kind::Series as i32,
        slug: "night-shift".into(),
        title: "Night Shift".into(),
        genres: vec!["drama".into()],
        ..Default::default()
    };
    let show = catalog.create_title(bearer(catalog_pb::CreateTitleRequest { fields: Some(fields) }, &stack.editor));
    let show = show.await.unwrap().into_inner();
    let mut episodes = Vec::new();
    for (season, number, asset) in [(1, 1, asset), (1, 2, asset), (2, 1, "")] {
        let request =
            catalog_pb::CreateSeasonRequest { series_id: show.id.clone(), number: season, ..Default::default() };
        // The second episode of season 1 finds its season already there.
        let season_id = match catalog.create_season(bearer(request, &stack.editor)).await {
            Ok(created) => created.into_inner().id,
            Err(_) => {
                let tree = catalog.get_series(bearer(
                    catalog_pb::GetSeriesRequest { id_or_slug: show.id.clone(), ..Default::default() },
                    &stack.editor,
                ));
                tree.await.unwrap().into_inner().seasons.into_iter().find(|s| s.number == season).unwrap().id
            }
        };
        let fields = catalog_pb::EpisodeFields {
            number,
            title: format!("S{season}E{number}"),
            asset_id: asset.into(),
            ..Default::default()
        };
        let request = catalog_pb::CreateEpisodeRequest { season_id, fields: Some(fields) };
        episodes.push(catalog.create_episode(bearer(request, &stack.editor)).await.unwrap().into_inner().id);
    }
    Show { id: show.id, episodes: episodes.try_into().unwrap() }
}

pub async fn publish(stack: &Stack, id: &str, visibility: catalog_pb::Visibility) {
    let request = catalog_pb::SetVisibilityRequest { id: id.into(), visibility: visibility as i32 };
    stack.catalog.clone().set_visibility(bearer(request, &stack.editor)).await.unwrap();
}

async fn rest_playback(stack: &Stack, episode: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = stack.http.get(stack.url(&format!("/api/v1/episodes/{episode}/playback")));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn an_episode_plays_over_rest_grpc_and_grpc_web_and_names_the_next_one(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    let asset = stack.ready(stack.clip(4)).await;
    let show = series_with_episodes(&stack, &asset.id).await;
    publish(&stack, &show.id, catalog_pb::Visibility::Published).await;
    let viewer = stack.viewer().await;
    let [first, second, unplayable] = &show.episodes;

    let (status, playback) = rest_playback(&stack, first, Some(&viewer)).await;
    assert_eq!(status, 200, "{playback}");
    assert_eq!(playback["title"]["id"], show.id.as_str());
    assert_eq!(playback["episode"]["id"], first.as_str());
    assert_eq!(playback["episode"]["season_number"], 1);
    assert_eq!(playback["next_episode"]["id"], second.as_str());
    assert_eq!(playback["ready"], true);
    let master = stack.http.get(playback["url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(master.status(), 200);
    assert!(master.text().await.unwrap().starts_with("#EXTM3U"), "the signed URL serves the ladder");

    // The last playable episode of season 1 is followed by season 2's, playable or not.
    let (_, playback) = rest_playback(&stack, second, Some(&viewer)).await;
    assert_eq!(playback["next_episode"]["id"], unplayable.as_str());
    let (status, refused) = rest_playback(&stack, unplayable, Some(&viewer)).await;
    assert_eq!((status, refused["code"].as_str()), (404, Some("not_found")));
    assert_eq!(refused["message"], "this episode has nothing to play yet");

    // Native gRPC through the edge: the same answer, with the same signed URL shape.
    let mut grpc = PlaybackServiceClient::connect(stack.edge.clone()).await.unwrap();
    let ask =
        |id: &str| bearer(playback_pb::PlayEpisodeRequest { episode_id: id.into(), ..Default::default() }, &viewer);
    let answer = grpc.play_episode(ask(first)).await.unwrap().into_inner();
    assert_eq!(answer.next_episode.unwrap().id, *second);
    assert_eq!(answer.title.unwrap().id, show.id);
    assert!(answer.url.starts_with(&stack.edge) && answer.url.ends_with("/master.m3u8"), "{}", answer.url);
    let refused = grpc.play_episode(ask(unplayable)).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::NotFound);
    assert_eq!(refused.metadata().get("ottr-error-code").unwrap(), "not_found");
    let anonymous =
        grpc.play_episode(playback_pb::PlayEpisodeRequest { episode_id: first.clone(), ..Default::default() }).await;
    assert_eq!(anonymous.unwrap_err().code(), tonic::Code::Unauthenticated);

    // gRPC-web from HTTP/1.1, as a TV app's JavaScript would call it.
    let web = stack
        .http
        .post(stack.url("/ottr.playback.v1.PlaybackService/PlayEpisode"))
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .bearer_auth(&viewer)
        .body(frame(&playback_pb::PlayEpisodeRequest { episode_id: second.clone(), ..Default::default() }))
        .send()
        .await
        .unwrap();
    assert_eq!(web.status(), 200);
    let (data, trailers) = frames(&web.bytes().await.unwrap());
    assert!(trailers.contains("grpc-status:0"), "{trailers}");
    let answer = playback_pb::Playback::decode(data[0].as_slice()).unwrap();
    assert_eq!(answer.episode.unwrap().id, *second);
    assert!(answer.url.ends_with("/master.m3u8"));
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn an_episode_of_a_draft_series_plays_for_editors_only_and_never_anonymously(pool: PgPool) {
    let stack = spawn_stack(pool).await;
    let asset = stack.ready(stack.clip(2)).await;
    let show = series_with_episodes(&stack, &asset.id).await;
    let viewer = stack.viewer().await;
    let first = &show.episodes[0];

    let (status, body) = rest_playback(&stack, first, Some(&viewer)).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")), "a draft's episode is not there for viewers");
    let (status, _) = rest_playback(&stack, first, Some(&stack.editor)).await;
    assert_eq!(status, 200, "editors check a draft before publishing it");
    publish(&stack, &show.id, catalog_pb::Visibility::Published).await;
    let (status, body) = rest_playback(&stack, first, None).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthenticated")));
    let (status, body) = rest_playback(&stack, "not-an-id", Some(&viewer)).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_argument")));
    let (status, _) = rest_playback(&stack, first, Some(&viewer)).await;
    assert_eq!(status, 200, "published: the viewer plays it");
}
