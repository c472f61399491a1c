//! `ottr.playback.v1.PlaybackService`, served by the edge itself (not relayed): apps on
//! phones and TVs get the same signed URLs as the web app, over gRPC or gRPC-web.

use tonic::{Request, Response, Status};

use ottr_proto::playback::v1::{self as pb, playback_service_server::PlaybackService};

use super::Player;

pub(crate) struct PlaybackApi(pub Player);

/// The caller's metadata as HTTP headers, to pass its token, request id and address on
/// exactly as a REST call does.
fn headers<T>(request: &Request<T>) -> axum::http::HeaderMap {
    request.metadata().clone().into_headers()
}

#[tonic::async_trait]
impl PlaybackService for PlaybackApi {
    async fn play_title(&self, request: Request<pb::PlayTitleRequest>) -> Result<Response<pb::Playback>, Status> {
        let headers = headers(&request);
        let body = request.into_inner();
        Ok(Response::new(self.0.title(&headers, body.id_or_slug, body.profile_id).await?))
    }

    async fn play_episode(&self, request: Request<pb::PlayEpisodeRequest>) -> Result<Response<pb::Playback>, Status> {
        let headers = headers(&request);
        let body = request.into_inner();
        Ok(Response::new(self.0.episode(&headers, body.episode_id, body.profile_id).await?))
    }
}
