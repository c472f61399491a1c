//! Request ids: every gRPC request gets one (the caller's `x-request-id`, or a new one),
//! logs inside the request carry it, the response echoes it, and calls made to other
//! services while handling it pass it on, so one id follows a request across hops.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use http::HeaderValue;
use tonic::{Request, Status, metadata::MetadataValue};
use tower::{Layer, Service};
use tracing::Instrument;

/// The header (and gRPC metadata key) that carries the id.
pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    static CURRENT: String;
}

/// The id of the request being handled by this task, if any.
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// A client interceptor that passes the current request id on to the next service.
pub fn propagate(mut request: Request<()>) -> Result<Request<()>, Status> {
    if let Some(id) = current().and_then(|id| MetadataValue::try_from(id).ok()) {
        request.metadata_mut().insert(HEADER, id);
    }
    Ok(request)
}

/// A caller's id is kept only when it is short, printable ASCII: it ends up in logs.
fn accept(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?;
    let fits = !text.is_empty() && text.len() <= 128 && text.bytes().all(|b| b.is_ascii_graphic());
    fits.then(|| text.to_owned())
}

/// Tower layer for servers: assigns, scopes and echoes the request id.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestIdLayer;

impl<S> Layer<S> for RequestIdLayer {
    type Service = RequestIdService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestIdService { inner }
    }
}

#[derive(Clone, Debug)]
pub struct RequestIdService<S> {
    inner: S,
}

impl<S, B, R> Service<http::Request<B>> for RequestIdService<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let id = request.headers().get(HEADER).and_then(accept).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let value = HeaderValue::from_str(&id).expect("request ids are printable ASCII");
        request.headers_mut().insert(HEADER, value.clone());
        let span = tracing::info_span!("rpc", request_id = %id, path = %request.uri().path());

        // The service that was polled ready is the one that must be called.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let response = async move {
            let mut response = inner.call(request).await?;
            response.headers_mut().insert(HEADER, value);
            Ok(response)
        };
        Box::pin(CURRENT.scope(id, response.instrument(span)))
    }
}
