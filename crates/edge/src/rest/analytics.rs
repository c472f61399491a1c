//! Viewing analytics for editors: `GET /api/v1/analytics` (the whole catalog, with its most
//! watched titles) and `GET /api/v1/titles/{id}/analytics` (one title; a series with all its
//! episodes). Plays, unique viewers, watch time and completions per UTC day, counted by the
//! catalog from the position reports players send.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::HeaderMap,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use ottr_proto::catalog::v1 as pb;

use super::Api;
use crate::{EdgeError, error::ErrorBody, upstream::forward};

#[derive(Deserialize, IntoParams)]
pub(super) struct RangeQuery {
    /// Days back, today (UTC) included: 1 to 366; 30 when left out.
    pub days: Option<i32>,
}

/// One day's figures, or a range's total (`day` empty; viewers counted once over the range).
#[derive(Serialize, ToSchema)]
pub(super) struct DayFigures {
    /// YYYY-MM-DD (UTC).
    pub day: String,
    /// Sessions begun: a report with none of the same item in the 30 minutes before.
    pub plays: i64,
    /// Distinct profiles that played.
    pub viewers: i64,
    /// Seconds of playback: position gained between reports, never more than the wall time.
    pub watch_secs: f64,
    /// Items (a movie or an episode) played to the credits, once per profile and day.
    pub completions: i64,
}

#[derive(Serialize, ToSchema)]
pub(super) struct TitleFigures {
    pub title_id: String,
    pub title: String,
    #[serde(flatten)]
    pub figures: DayFigures,
}

#[derive(Serialize, ToSchema)]
pub(super) struct ViewingStats {
    /// Every day of the range, oldest first, zeros where nobody watched.
    pub days: Vec<DayFigures>,
    pub total: DayFigures,
    /// The whole catalog's ten most watched titles by watch time; empty for one title.
    pub top: Vec<TitleFigures>,
}

impl From<pb::DayFigures> for DayFigures {
    fn from(f: pb::DayFigures) -> Self {
        Self { day: f.day, plays: f.plays, viewers: f.viewers, watch_secs: f.watch_secs, completions: f.completions }
    }
}

impl From<pb::ViewingStats> for ViewingStats {
    fn from(stats: pb::ViewingStats) -> Self {
        Self {
            days: stats.days.into_iter().map(Into::into).collect(),
            total: stats.total.unwrap_or_default().into(),
            top: stats
                .top
                .into_iter()
                .map(|t| TitleFigures {
                    title_id: t.title_id,
                    title: t.title,
                    figures: t.figures.unwrap_or_default().into(),
                })
                .collect(),
        }
    }
}

async fn stats(api: &Api, headers: &HeaderMap, title_id: String, q: RangeQuery) -> Result<ViewingStats, EdgeError> {
    let request = forward(headers, pb::GetViewingStatsRequest { title_id, days: q.days.unwrap_or(0) });
    Ok(api.upstream.catalog.clone().get_viewing_stats(request).await?.into_inner().into())
}

/// The whole catalog's viewing per day, and its most watched titles.
#[utoipa::path(get, path = "/api/v1/analytics", params(RangeQuery), tag = "analytics", security(("bearer" = [])),
    responses((status = 200, body = ViewingStats), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn catalog(
    State(api): State<Api>,
    headers: HeaderMap,
    Query(q): Query<RangeQuery>,
) -> Result<Json<ViewingStats>, EdgeError> {
    Ok(Json(stats(&api, &headers, String::new(), q).await?))
}

/// One title's viewing per day (a series counts every episode).
#[utoipa::path(get, path = "/api/v1/titles/{id}/analytics", params(("id" = String, Path, description = "the title's id"), RangeQuery),
    tag = "analytics", security(("bearer" = [])),
    responses((status = 200, body = ViewingStats), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn title(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<RangeQuery>,
) -> Result<Json<ViewingStats>, EdgeError> {
    Ok(Json(stats(&api, &headers, id, q).await?))
}
