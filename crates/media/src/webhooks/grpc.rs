//! The `ottr.media.v1.WebhookService` handlers: editors and admins register endpoints and
//! read the delivery log of their own; an admin, of every endpoint.

use tonic::{Request, Response, Status};
use uuid::Uuid;

use ottr_proto::media::v1::{self as pb, webhook_service_server::WebhookService};
use ottr_runtime::{
    token::{self, Role},
    webhooks::EVENT_TYPES,
};

use super::{WebhookSettings, sign, store, target};
use crate::{MediaError, grpc::parse_id};

pub(crate) struct WebhookApi {
    pub pool: sqlx::PgPool,
    pub settings: WebhookSettings,
}

/// Whose endpoints the caller may manage: its own, or (an admin) every one.
struct Owner {
    id: Uuid,
    all: bool,
}

impl Owner {
    fn of<T>(request: &Request<T>) -> Result<Self, MediaError> {
        let caller = token::caller(request).ok_or(MediaError::Unauthenticated)?;
        if caller.has(Role::Admin) {
            Ok(Self { id: caller.user_id, all: true })
        } else if caller.has(Role::Editor) {
            Ok(Self { id: caller.user_id, all: false })
        } else {
            Err(MediaError::PermissionDenied)
        }
    }

    /// The owner to filter by: none for an admin.
    fn filter(&self) -> Option<Uuid> {
        (!self.all).then_some(self.id)
    }
}

/// At least one event, each known, none twice.
fn events(mut wanted: Vec<String>) -> Result<Vec<String>, MediaError> {
    wanted.sort();
    wanted.dedup();
    if wanted.is_empty() {
        return Err(MediaError::Invalid {
            field: "events",
            message: format!("one or more of {}", EVENT_TYPES.join(", ")),
        });
    }
    if let Some(unknown) = wanted.iter().find(|e| !EVENT_TYPES.contains(&e.as_str())) {
        let message = format!("{unknown} is not one of {}", EVENT_TYPES.join(", "));
        return Err(MediaError::Invalid { field: "events", message });
    }
    Ok(wanted)
}

#[tonic::async_trait]
impl WebhookService for WebhookApi {
    async fn create_webhook(
        &self,
        request: Request<pb::CreateWebhookRequest>,
    ) -> Result<Response<pb::CreatedWebhook>, Status> {
        let owner = Owner::of(&request)?;
        let body = request.into_inner();
        let events = events(body.events)?;
        if body.description.chars().count() > 200 {
            return Err(MediaError::Invalid { field: "description", message: "at most 200 characters".into() }.into());
        }
        let url = target::check(body.url.trim(), self.settings.policy())
            .await
            .map_err(|refused| MediaError::WebhookUrlRefused(refused.0))?;
        let secret = sign::new_secret();
        let new = store::NewEndpoint {
            url: url.as_str(),
            events: &events,
            description: body.description.trim(),
            secret: &secret,
            created_by: owner.id,
        };
        let row = store::create(&self.pool, &new).await?;
        tracing::info!(webhook = %row.id, url = %row.url, "webhook registered");
        Ok(Response::new(pb::CreatedWebhook { webhook: Some(row.into()), secret }))
    }

    async fn list_webhooks(
        &self,
        request: Request<pb::ListWebhooksRequest>,
    ) -> Result<Response<pb::ListWebhooksResponse>, Status> {
        let owner = Owner::of(&request)?;
        let rows = store::list(&self.pool, owner.filter()).await?;
        Ok(Response::new(pb::ListWebhooksResponse { webhooks: rows.into_iter().map(Into::into).collect() }))
    }

    async fn delete_webhook(&self, request: Request<pb::WebhookRef>) -> Result<Response<pb::Webhook>, Status> {
        let owner = Owner::of(&request)?;
        let id = parse_id("id", &request.into_inner().id)?;
        Ok(Response::new(store::delete(&self.pool, id, owner.filter()).await?.into()))
    }

    async fn list_deliveries(
        &self,
        request: Request<pb::ListDeliveriesRequest>,
    ) -> Result<Response<pb::ListDeliveriesResponse>, Status> {
        let owner = Owner::of(&request)?;
        let body = request.into_inner();
        let endpoint = store::get(&self.pool, parse_id("webhook_id", &body.webhook_id)?, owner.filter()).await?;
        let state = match body.state.as_str() {
            "" => None,
            state @ ("pending" | "delivered" | "failed") => Some(state),
            _ => {
                let message = "pending, delivered, failed or empty".into();
                return Err(MediaError::Invalid { field: "state", message }.into());
            }
        };
        let rows = store::deliveries(&self.pool, endpoint.id, state).await?;
        Ok(Response::new(pb::ListDeliveriesResponse { deliveries: rows.into_iter().map(Into::into).collect() }))
    }

    async fn resend_delivery(&self, request: Request<pb::DeliveryRef>) -> Result<Response<pb::Delivery>, Status> {
        let owner = Owner::of(&request)?;
        let body = request.into_inner();
        let endpoint = store::get(&self.pool, parse_id("webhook_id", &body.webhook_id)?, owner.filter()).await?;
        let delivery = parse_id("delivery_id", &body.delivery_id)?;
        Ok(Response::new(store::resend(&self.pool, endpoint.id, delivery).await?.into()))
    }
}
