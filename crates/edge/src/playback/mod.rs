//! Playback for viewers: the catalog decides whether the caller may see the movie or
//! episode (drafts only for editors), media says where its asset's ladder is, and the edge
//! signs URLs for it with the delivery key only it holds. REST (`rest::playback`) and the
//! edge's own gRPC service (`grpc`, reachable with gRPC-web) both answer from here.

mod grpc;
mod sign;

use std::sync::Arc;

use axum::http::HeaderMap;

use ottr_proto::{catalog::v1 as catalog, media::v1 as media, playback::v1 as pb};
use ottr_storage::keys::{AssetKeys, DeliveryKey, Tree};

pub(crate) use grpc::PlaybackApi;

use crate::{EdgeError, hls::Delivery, upstream::Upstream, upstream::forward};

/// What signing needs, shared by both doors.
#[derive(Clone)]
pub(crate) struct Player {
    pub upstream: Upstream,
    pub delivery: Arc<Delivery>,
    /// Absolute base of the URLs handed out.
    pub public_url: String,
    pub ttl_secs: i64,
}

impl Player {
    /// A movie by id or slug. A series has nothing of its own to play: its episodes do.
    /// `profile_id`, when given, holds a kids profile to its maturity limit.
    pub(crate) async fn title(
        &self,
        headers: &HeaderMap,
        id_or_slug: String,
        profile_id: String,
    ) -> Result<pb::Playback, EdgeError> {
        let request = forward(headers, catalog::GetTitleRequest { id_or_slug, profile_id });
        let title = self.upstream.catalog.clone().get_title(request).await?.into_inner();
        let asset_id = title.fields.as_ref().map(|f| f.asset_id.clone()).unwrap_or_default();
        let downloadable = title.fields.as_ref().is_some_and(|f| f.downloadable);
        let mut playback = self.sign(headers, asset_id, "this title has nothing to play yet", downloadable).await?;
        playback.title = Some(title);
        Ok(playback)
    }

    /// An episode by id, under its series' visibility, with the episode after it.
    pub(crate) async fn episode(
        &self,
        headers: &HeaderMap,
        id: String,
        profile_id: String,
    ) -> Result<pb::Playback, EdgeError> {
        let request = forward(headers, catalog::GetEpisodeRequest { id, profile_id });
        let found = self.upstream.catalog.clone().get_episode(request).await?.into_inner();
        let asset_id = found.episode.as_ref().and_then(|e| e.fields.as_ref()).map(|f| f.asset_id.clone());
        // A series offers downloads for all its episodes or none.
        let downloadable = found.series.as_ref().and_then(|s| s.fields.as_ref()).is_some_and(|f| f.downloadable);
        let nothing = "this episode has nothing to play yet";
        let mut playback = self.sign(headers, asset_id.unwrap_or_default(), nothing, downloadable).await?;
        playback.title = found.series;
        playback.episode = found.episode;
        playback.next_episode = found.next;
        Ok(playback)
    }

    /// The signed URL of the poster frame the asset's latest attempt stored, found in
    /// storage (the edge reads it; media need not be asked, and browsing needs no sign-in).
    /// The caller has checked that the title it illustrates may be seen.
    pub(crate) async fn poster_frame(&self, asset: uuid::Uuid) -> Result<Option<String>, EdgeError> {
        let keys = self.delivery.store.list(&AssetKeys::new(asset).images_root()).await.map_err(EdgeError::Storage)?;
        let latest = keys
            .iter()
            .filter(|key| key.ends_with("/poster.jpg"))
            .filter_map(|key| Some((DeliveryKey::parse(key).ok()?.attempt(), key)))
            .max_by_key(|(attempt, _)| *attempt);
        let Some((_, key)) = latest else { return Ok(None) };
        let token = self.delivery.signer.sign(asset, time::OffsetDateTime::now_utc().unix_timestamp() + self.ttl_secs);
        Ok(Some(sign::signed_url(&self.public_url, &token, Tree::Images, key)))
    }

    /// Signed URLs for a playable asset, and its download when `downloadable` (the title
    /// offers it) and the asset has one; `nothing` when no asset is attached.
    async fn sign(
        &self,
        headers: &HeaderMap,
        asset_id: String,
        nothing: &'static str,
        downloadable: bool,
    ) -> Result<pb::Playback, EdgeError> {
        if asset_id.is_empty() {
            return Err(EdgeError::NotFound(nothing));
        }
        let request = forward(headers, media::GetPlaybackRequest { asset_id });
        let found = self.upstream.media.clone().get_playback(request).await?.into_inner();
        let asset: uuid::Uuid =
            found.asset_id.parse().map_err(|e| EdgeError::internal("media named an asset by a malformed id", e))?;
        let expires_at = time::OffsetDateTime::now_utc().unix_timestamp() + self.ttl_secs;
        let token = self.delivery.signer.sign(asset, expires_at);
        let url = |tree: Tree, key: &str| sign::signed_url(&self.public_url, &token, tree, key);
        let offered = downloadable && !found.download.is_empty();
        Ok(pb::Playback {
            download_url: if offered { url(Tree::Files, &found.download) } else { String::new() },
            download_bytes: if offered { found.download_bytes } else { 0 },
            url: url(Tree::Hls, &found.master_playlist),
            poster_url: url(Tree::Images, &found.poster),
            storyboard_url: url(Tree::Images, &found.storyboard),
            expires_at,
            ready: found.ready,
            duration_secs: found.duration_secs,
            ..Default::default()
        })
    }
}
