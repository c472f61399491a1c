//! `/api/v1/titles/{id}/poster`: a title's poster for anyone who may see the title, signed
//! in or not. A title without a poster of its own shows its asset's poster frame (a
//! series, its first playable episode's): browsing needs pictures before anyone uploads
//! artwork. The answer is a redirect to the image, cached by browsers for a while.

use axum::{
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use ottr_proto::catalog::v1 as pb;

use super::Api;
use crate::{EdgeError, error::ErrorBody, upstream::forward};

/// How long a browser keeps the redirect: well inside the signed URL's lifetime.
const CACHE_SECS: i64 = 300;

/// The asset whose poster frame stands for the title: a movie's own, or a series' first
/// episode that has one.
async fn illustrating_asset(api: &Api, headers: &HeaderMap, title: &pb::Title) -> Result<Option<String>, EdgeError> {
    let fields = title.fields.clone().unwrap_or_default();
    if !fields.asset_id.is_empty() || fields.kind != pb::Kind::Series as i32 {
        return Ok(Some(fields.asset_id).filter(|a| !a.is_empty()));
    }
    let request = forward(headers, pb::GetSeriesRequest { id_or_slug: title.id.clone(), ..Default::default() });
    let series = api.upstream.catalog.clone().get_series(request).await?.into_inner();
    let episodes = series.seasons.into_iter().flat_map(|s| s.episodes);
    Ok(episodes.filter_map(|e| e.fields.map(|f| f.asset_id)).find(|a| !a.is_empty()))
}

/// Redirects to the title's poster: its own, else its asset's poster frame.
#[utoipa::path(get, path = "/api/v1/titles/{id}/poster", params(("id" = String, Path, description = "id or slug")), tag = "catalog",
    responses((status = 302, description = "to the image"), (status = 404, body = ErrorBody)))]
pub(super) async fn poster(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, EdgeError> {
    let request = forward(&headers, pb::GetTitleRequest { id_or_slug: id, ..Default::default() });
    let title = api.upstream.catalog.clone().get_title(request).await?.into_inner();
    let own = title.fields.as_ref().and_then(|f| f.artwork.as_ref()).map(|a| a.poster_url.clone());
    let url = match own.filter(|url| !url.is_empty()) {
        Some(url) => url,
        None => {
            let asset = illustrating_asset(&api, &headers, &title).await?.and_then(|a| a.parse().ok());
            match asset {
                Some(asset) => api.player.poster_frame(asset).await?.ok_or(EdgeError::NotFound("no poster yet"))?,
                None => return Err(EdgeError::NotFound("no poster yet")),
            }
        }
    };
    let location =
        HeaderValue::try_from(url).map_err(|e| EdgeError::internal("a poster URL is not a header value", e))?;
    let cache = HeaderValue::from_str(&format!("private, max-age={}", CACHE_SECS.min(api.player.ttl_secs / 2)))
        .map_err(|e| EdgeError::internal("cache header", e))?;
    Ok((StatusCode::FOUND, [(header::LOCATION, location), (header::CACHE_CONTROL, cache)]).into_response())
}
