//! Clients of the internal services, and passing the caller's identity along: the bearer
//! token, the request id and the caller's address go with every call, and each service verifies the token itself.

use axum::http::HeaderMap;
use tonic::{
    metadata::MetadataValue,
    transport::{Channel, Endpoint},
};

use ottr_proto::{
    auth::v1::auth_service_client::AuthServiceClient,
    catalog::v1::{catalog_service_client::CatalogServiceClient, library_service_client::LibraryServiceClient},
    media::v1::{media_service_client::MediaServiceClient, webhook_service_client::WebhookServiceClient},
};
use ottr_runtime::{client_addr::CLIENT_IP_HEADER, request_id};

use crate::EdgeSettings;

#[derive(Clone)]
pub(crate) struct Upstream {
    /// The raw channels, for relaying gRPC as it is.
    pub channels: Channels,
    pub auth: AuthServiceClient<Channel>,
    pub catalog: CatalogServiceClient<Channel>,
    pub library: LibraryServiceClient<Channel>,
    pub media: MediaServiceClient<Channel>,
    pub webhooks: WebhookServiceClient<Channel>,
}

fn channel(url: &str) -> Result<Channel, tonic::transport::Error> {
    // Lazy: the edge starts, and answers "unavailable", while a service is still coming up.
    Ok(Endpoint::from_shared(url.to_owned())?.connect_timeout(std::time::Duration::from_secs(3)).connect_lazy())
}

#[derive(Clone)]
pub(crate) struct Channels {
    pub auth: Channel,
    pub catalog: Channel,
    pub media: Channel,
}

impl Upstream {
    pub(crate) fn new(settings: &EdgeSettings) -> Result<Self, tonic::transport::Error> {
        let channels = Channels {
            auth: channel(&settings.auth_url)?,
            catalog: channel(&settings.catalog_url)?,
            media: channel(&settings.media_url)?,
        };
        Ok(Self {
            auth: AuthServiceClient::new(channels.auth.clone()),
            catalog: CatalogServiceClient::new(channels.catalog.clone()),
            library: LibraryServiceClient::new(channels.catalog.clone()),
            media: MediaServiceClient::new(channels.media.clone()),
            webhooks: WebhookServiceClient::new(channels.media.clone()),
            channels,
        })
    }
}

/// A gRPC request carrying the HTTP caller's bearer token, request id and address (as
/// `client_ip` resolved it; services believe it from the edge, a trusted peer).
pub(crate) fn forward<T>(headers: &HeaderMap, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    for name in [axum::http::header::AUTHORIZATION.as_str(), request_id::HEADER, CLIENT_IP_HEADER] {
        if let Some(value) =
            headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| MetadataValue::try_from(v).ok())
        {
            request.metadata_mut().insert(name, value);
        }
    }
    request
}
