//! Deletes, for editors: `DELETE /api/v1/titles/{id}`, `/api/v1/episodes/{id}` and
//! `/api/v1/assets/{id}`. The edge joins the two owners up: the catalog forgets the title
//! or episode (or what played an asset) first, so no viewer is sent to what is going, then
//! media deletes the assets with their objects and running jobs. Deletes are immediate.

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
};

use ottr_proto::{catalog::v1 as catalog, media::v1 as media};
use ottr_storage::keys::AssetKeys;

use super::Api;
use crate::{EdgeError, error::ErrorBody, upstream::forward};

/// Deletes each asset from media, and from this edge's memory. One already gone is done.
async fn delete_assets(api: &Api, headers: &HeaderMap, asset_ids: Vec<String>) -> Result<(), EdgeError> {
    for asset_id in asset_ids {
        let request = forward(headers, media::DeleteAssetRequest { asset_id: asset_id.clone() });
        match api.upstream.media.clone().delete_asset(request).await {
            Ok(_) => {}
            Err(status) if status.code() == tonic::Code::NotFound => {}
            Err(status) => return Err(status.into()),
        }
        if let Ok(asset) = asset_id.parse() {
            for prefix in AssetKeys::new(asset).every_root() {
                api.player.delivery.cache.forget(&prefix);
            }
        }
    }
    Ok(())
}

/// Deletes a title with its seasons and episodes, every profile's list entry and history
/// of it, and the assets they played that nothing else plays.
#[utoipa::path(delete, path = "/api/v1/titles/{id}", params(("id" = String, Path, description = "the title's id")),
    tag = "catalog", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn delete_title(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, EdgeError> {
    let request = forward(&headers, catalog::DeleteTitleRequest { id });
    let deleted = api.upstream.catalog.clone().delete_title(request).await?.into_inner();
    delete_assets(&api, &headers, deleted.asset_ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes an episode, every profile's history of it, and its asset unless another title
/// or episode plays it.
#[utoipa::path(delete, path = "/api/v1/episodes/{id}", params(("id" = String, Path, description = "the episode's id")),
    tag = "catalog", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn delete_episode(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, EdgeError> {
    let request = forward(&headers, catalog::DeleteEpisodeRequest { id });
    let deleted = api.upstream.catalog.clone().delete_episode(request).await?.into_inner();
    delete_assets(&api, &headers, deleted.asset_ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes an asset: its running job is cancelled, its objects removed; the titles and
/// episodes that played it keep their place with nothing to play, and positions in them go.
#[utoipa::path(delete, path = "/api/v1/assets/{id}", params(("id" = String, Path, description = "the asset's id")),
    tag = "assets", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn delete_asset(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, EdgeError> {
    // Media first checks that it exists: a typo must not detach anything.
    let asset = media::GetAssetRequest { id: id.clone() };
    api.upstream.media.clone().get_asset(forward(&headers, asset)).await?;
    let request = forward(&headers, catalog::DetachAssetRequest { asset_id: id.clone() });
    api.upstream.catalog.clone().detach_asset(request).await?;
    delete_assets(&api, &headers, vec![id]).await?;
    Ok(StatusCode::NO_CONTENT)
}
