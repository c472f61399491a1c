//! `/api/v1/titles/{id}/playback`: a signed HLS URL for a title the caller may see.

use axum::{
    Json,
    extract::{Path, State},
    http::HeaderMap,
};
use serde::Serialize;
use utoipa::ToSchema;

use ottr_proto::{catalog::v1 as catalog, media::v1 as media};
use ottr_storage::keys::{DeliveryKey, Tree};

use super::Api;
use crate::{EdgeError, error::ErrorBody, upstream::forward};

#[derive(Serialize, ToSchema)]
pub(super) struct Playback {
    /// The master playlist; the token in its path covers every playlist and segment below it.
    pub url: String,
    pub poster_url: String,
    /// WebVTT cues pointing into the sprite sheet beside them.
    pub storyboard_url: String,
    /// Unix seconds after which the URLs stop working.
    pub expires_at: i64,
    /// False while the ladder is still growing (playable, not finished).
    pub ready: bool,
    pub duration_secs: f64,
}

/// The delivery URL of a stored key in `tree`: the token stands for the asset, so the
/// URL carries only the attempt and the path inside it. Empty when there is no such key
/// (no poster yet, say).
fn signed_url(public_url: &str, token: &str, tree: Tree, key: &str) -> String {
    match DeliveryKey::parse(key) {
        Ok(key) if key.tree() == tree => format!("{public_url}/{}/{token}/{}", tree.as_str(), key.url_path()),
        _ => String::new(),
    }
}

/// The catalog decides whether the caller may see the title (drafts only for editors); the
/// media service says where its asset's playlist is; the edge signs a URL for it.
#[utoipa::path(get, path = "/api/v1/titles/{id}/playback", params(("id" = String, Path, description = "id or slug")),
    tag = "playback", security(("bearer" = [])),
    responses((status = 200, body = Playback), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn playback(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Playback>, EdgeError> {
    let title = api
        .upstream
        .catalog
        .clone()
        .get_title(forward(&headers, catalog::GetTitleRequest { id_or_slug: id }))
        .await?
        .into_inner();
    let asset_id = title.fields.map(|f| f.asset_id).filter(|a| !a.is_empty());
    let asset_id = asset_id.ok_or(EdgeError::NotFound("this title has nothing to play yet"))?;
    let found = api
        .upstream
        .media
        .clone()
        .get_playback(forward(&headers, media::GetPlaybackRequest { asset_id }))
        .await?
        .into_inner();
    let asset: uuid::Uuid =
        found.asset_id.parse().map_err(|e| EdgeError::internal("media named an asset by a malformed id", e))?;
    let expires_at = time::OffsetDateTime::now_utc().unix_timestamp() + api.playback_ttl_secs;
    let token = api.delivery.signer.sign(asset, expires_at);
    let url = |tree: Tree, key: &str| signed_url(&api.public_url, &token, tree, key);
    Ok(Json(Playback {
        url: url(Tree::Hls, &found.master_playlist),
        poster_url: url(Tree::Images, &found.poster),
        storyboard_url: url(Tree::Images, &found.storyboard),
        expires_at,
        ready: found.ready,
        duration_secs: found.duration_secs,
    }))
}

#[cfg(test)]
mod tests {
    use super::{Tree, signed_url};

    const ASSET: &str = "4f2a3c1e-8b7d-4e6f-9a01-23456789abcd";

    #[test]
    fn keys_lose_their_root_and_asset() {
        let url = |tree, key: &str| signed_url("https://e.x", "tok", tree, key);
        assert_eq!(url(Tree::Hls, &format!("hls/{ASSET}/2/master.m3u8")), "https://e.x/hls/tok/2/master.m3u8");
        assert_eq!(url(Tree::Images, &format!("images/{ASSET}/2/poster.jpg")), "https://e.x/images/tok/2/poster.jpg");
        assert_eq!(url(Tree::Images, ""), "");
        assert_eq!(url(Tree::Hls, &format!("sources/{ASSET}/x")), "");
        assert_eq!(url(Tree::Hls, &format!("images/{ASSET}/2/poster.jpg")), "", "a key of the other tree");
    }
}
