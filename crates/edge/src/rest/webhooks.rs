//! Webhooks for editors: register an endpoint (`POST /api/v1/webhooks`, the signing secret
//! is in that answer only), list and delete them, read an endpoint's delivery log and send
//! a delivery again. Media keeps the endpoints and sends (see `ottr.media.v1.WebhookService`).

use axum::{
    Json,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use ottr_proto::media::v1 as pb;

use super::Api;
use crate::{EdgeError, error::ErrorBody, upstream::forward};

#[derive(Deserialize, ToSchema)]
pub(super) struct WebhookInput {
    /// https, on a public host (the operator may allow http and internal hosts).
    pub url: String,
    /// One or more of asset.playable, asset.ready, asset.failed, asset.deleted, title.published.
    pub events: Vec<String>,
    #[serde(default)]
    pub description: String,
}

#[derive(Serialize, ToSchema)]
pub(super) struct Webhook {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub description: String,
    pub created_by: String,
    pub created_at: i64,
}

impl From<pb::Webhook> for Webhook {
    fn from(w: pb::Webhook) -> Self {
        Self {
            id: w.id,
            url: w.url,
            events: w.events,
            description: w.description,
            created_by: w.created_by,
            created_at: w.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(super) struct CreatedWebhook {
    pub webhook: Webhook,
    /// `whsec_…`: verify each delivery's `webhook-signature` with it. Shown only here.
    pub secret: String,
}

#[derive(Serialize, ToSchema)]
pub(super) struct WebhookList {
    pub webhooks: Vec<Webhook>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct Delivery {
    pub id: String,
    pub webhook_id: String,
    /// The `webhook-id` header: the same on every retry.
    pub event_id: String,
    pub event_type: String,
    /// `pending`, `delivered` or `failed` (retries ran out).
    pub state: String,
    pub attempts: u32,
    /// The receiver's last HTTP status; 0 when none came.
    pub last_status: u32,
    pub last_error: String,
    pub created_at: i64,
    pub delivered_at: i64,
    pub next_attempt_at: i64,
}

impl From<pb::Delivery> for Delivery {
    fn from(d: pb::Delivery) -> Self {
        Self {
            id: d.id,
            webhook_id: d.webhook_id,
            event_id: d.event_id,
            event_type: d.event_type,
            state: d.state,
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
            next_attempt_at: d.next_attempt_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(super) struct DeliveryList {
    pub deliveries: Vec<Delivery>,
}

#[derive(Deserialize, IntoParams)]
pub(super) struct DeliveryQuery {
    /// `pending`, `delivered` or `failed`; every state when left out.
    pub state: Option<String>,
}

/// Registers an endpoint; the answer holds its signing secret, shown this once.
#[utoipa::path(post, path = "/api/v1/webhooks", request_body = WebhookInput, tag = "webhooks", security(("bearer" = [])),
    responses((status = 201, body = CreatedWebhook), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(super) async fn create(
    State(api): State<Api>,
    headers: HeaderMap,
    Json(input): Json<WebhookInput>,
) -> Result<(StatusCode, Json<CreatedWebhook>), EdgeError> {
    let message = pb::CreateWebhookRequest { url: input.url, events: input.events, description: input.description };
    let created = api.upstream.webhooks.clone().create_webhook(forward(&headers, message)).await?.into_inner();
    let webhook = created.webhook.unwrap_or_default().into();
    Ok((StatusCode::CREATED, Json(CreatedWebhook { webhook, secret: created.secret })))
}

/// The caller's endpoints (an admin's: every one).
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = WebhookList), (status = 403, body = ErrorBody)))]
pub(super) async fn list(State(api): State<Api>, headers: HeaderMap) -> Result<Json<WebhookList>, EdgeError> {
    let found = api.upstream.webhooks.clone().list_webhooks(forward(&headers, pb::ListWebhooksRequest {})).await?;
    Ok(Json(WebhookList { webhooks: found.into_inner().webhooks.into_iter().map(Into::into).collect() }))
}

/// Deletes an endpoint and its delivery log; nothing more is sent to it.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", params(("id" = String, Path, description = "the webhook's id")),
    tag = "webhooks", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn delete(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, EdgeError> {
    api.upstream.webhooks.clone().delete_webhook(forward(&headers, pb::WebhookRef { id })).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An endpoint's newest 100 deliveries.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", params(("id" = String, Path, description = "the webhook's id"), DeliveryQuery),
    tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = DeliveryList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn deliveries(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<DeliveryQuery>,
) -> Result<Json<DeliveryList>, EdgeError> {
    let message = pb::ListDeliveriesRequest { webhook_id: id, state: q.state.unwrap_or_default() };
    let found = api.upstream.webhooks.clone().list_deliveries(forward(&headers, message)).await?.into_inner();
    Ok(Json(DeliveryList { deliveries: found.deliveries.into_iter().map(Into::into).collect() }))
}

/// Sends a delivery again as soon as a sender is free.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery}/resend",
    params(("id" = String, Path, description = "the webhook's id"), ("delivery" = String, Path, description = "the delivery's id")),
    tag = "webhooks", security(("bearer" = [])),
    responses((status = 202, body = Delivery), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn resend(
    State(api): State<Api>,
    headers: HeaderMap,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Delivery>), EdgeError> {
    let message = pb::DeliveryRef { webhook_id: id, delivery_id: delivery };
    let resent = api.upstream.webhooks.clone().resend_delivery(forward(&headers, message)).await?.into_inner();
    Ok((StatusCode::ACCEPTED, Json(resent.into())))
}
