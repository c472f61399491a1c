//! A tus 1.0 client for the edge's `/api/v1/uploads`: creation (POST), where to resume
//! (HEAD), the upload's record (GET, which names the asset once media has the file), and
//! one append (PATCH) streamed from the file. Each call is one request; deciding what to
//! do when one fails is [`super::transfer`]'s job, so failures come back classified.

use std::{io::Seek, path::Path};

use anyhow::Context;
use base64::{Engine, engine::general_purpose::STANDARD};
use reqwest::{Body, StatusCode, Url, header};
use serde::Deserialize;
use tokio::io::AsyncReadExt;
use tonic::codegen::tokio_stream::StreamExt;

use super::api::{ApiError, Session, success};

const TUS_VERSION: &str = "1.0.0";

/// What the edge made of a complete upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Finished {
    pub asset_id: String,
    pub job_id: String,
}

/// The edge no longer has the upload (expired, or refused and deleted once complete).
#[derive(Debug, thiserror::Error)]
#[error("the edge no longer has this upload (it expired, or was refused once complete); run again to start over")]
pub(crate) struct Gone;

/// An upload the edge just created.
pub(crate) struct Created {
    pub url: Url,
    /// Unix seconds, from `Upload-Expires` (0 when absent).
    pub expires_at: i64,
}

/// How one PATCH ended, short of an error to give up on.
pub(crate) enum Appended {
    /// Accepted; the new offset, and the asset when this PATCH completed the upload.
    Accepted { offset: u64, finished: Option<Finished> },
    /// The edge holds another offset (409 `upload_offset_mismatch`): ask it with HEAD.
    Mismatch,
    /// Another PATCH of this upload is still being written (409 `upload_busy`), typically
    /// the one whose connection just dropped: wait, then ask again.
    Busy,
}

/// The upload's record (`GET` on its URL).
#[derive(Deserialize)]
struct Record {
    #[serde(default)]
    asset_id: String,
    #[serde(default)]
    job_id: String,
}

fn header_u64(response: &reqwest::Response, name: &str) -> Option<u64> {
    response.headers().get(name)?.to_str().ok()?.trim().parse().ok()
}

fn header_string(response: &reqwest::Response, name: &str) -> Option<String> {
    let value = response.headers().get(name)?.to_str().ok()?.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// The tus client of one edge, as one signed-in account.
pub(crate) struct TusClient<'a> {
    session: &'a Session,
}

impl<'a> TusClient<'a> {
    pub(crate) fn new(session: &'a Session) -> Self {
        Self { session }
    }

    /// Creates an upload of `length` bytes named `filename`.
    pub(crate) async fn create(&self, length: u64, filename: &str) -> anyhow::Result<Created> {
        let endpoint = self.session.edge().url("api/v1/uploads")?;
        let metadata = format!("filename {}", STANDARD.encode(filename));
        let response = self
            .session
            .send(|http| {
                Ok(http
                    .post(endpoint.clone())
                    .header("tus-resumable", TUS_VERSION)
                    .header("upload-length", length)
                    .header("upload-metadata", &metadata))
            })
            .await?;
        let response = success(response).await.context("creating the upload")?;
        let location = header_string(&response, header::LOCATION.as_str()).context("the edge sent no Location")?;
        // tus allows a relative Location; resolve it against the endpoint as browsers do.
        let url = endpoint.join(&location).with_context(|| format!("the Location {location} is not a URL"))?;
        let expires_at = header_string(&response, "upload-expires")
            .and_then(|date| httpdate::parse_http_date(&date).ok())
            .and_then(|at| at.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as i64);
        Ok(Created { url, expires_at })
    }

    /// The offset to resume from; `None` when the edge no longer has the upload (404,
    /// 410: expired, swept, finished and refused, or never this account's).
    pub(crate) async fn offset(&self, url: &Url) -> anyhow::Result<Option<u64>> {
        let response =
            self.session.send(|http| Ok(http.head(url.clone()).header("tus-resumable", TUS_VERSION))).await?;
        if matches!(response.status(), StatusCode::NOT_FOUND | StatusCode::GONE) {
            return Ok(None);
        }
        let response = success(response).await.context("asking where to resume")?;
        header_u64(&response, "upload-offset").map(Some).context("the edge sent no Upload-Offset")
    }

    /// The asset and job, once the edge has handed the complete file to media; `None`
    /// while it is still doing so, or when the upload is gone.
    pub(crate) async fn finished(&self, url: &Url) -> anyhow::Result<Option<Finished>> {
        let response = self.session.send(|http| Ok(http.get(url.clone()).header("tus-resumable", TUS_VERSION))).await?;
        if matches!(response.status(), StatusCode::NOT_FOUND | StatusCode::GONE) {
            return Ok(None);
        }
        let record: Record = success(response).await?.json().await.context("reading the upload's record")?;
        Ok((!record.asset_id.is_empty()).then_some(Finished { asset_id: record.asset_id, job_id: record.job_id }))
    }

    /// Appends `length` bytes of `file` from `offset`, streamed from disk; `sent` is told
    /// of each piece as it leaves, for the progress bar. A zero-length PATCH at the end
    /// asks the edge to hand a complete file to media again (after an edge restart).
    pub(crate) async fn append(
        &self,
        url: &Url,
        file: &Path,
        offset: u64,
        length: u64,
        sent: impl Fn(u64) + Clone + Send + Sync + 'static,
    ) -> anyhow::Result<Appended> {
        let response = self
            .session
            .send(|http| {
                Ok(http
                    .patch(url.clone())
                    .header("tus-resumable", TUS_VERSION)
                    .header("upload-offset", offset)
                    .header(header::CONTENT_TYPE, "application/offset+octet-stream")
                    .header(header::CONTENT_LENGTH, length)
                    .body(body(file, offset, length, sent.clone())?))
            })
            .await?;
        if response.status().is_success() {
            let offset = header_u64(&response, "upload-offset").context("the edge sent no Upload-Offset")?;
            let finished = header_string(&response, "ottr-asset-id").map(|asset_id| Finished {
                asset_id,
                job_id: header_string(&response, "ottr-job-id").unwrap_or_default(),
            });
            return Ok(Appended::Accepted { offset, finished });
        }
        let error = ApiError::from_response(response).await;
        match (error.status, error.code.as_str()) {
            (StatusCode::NOT_FOUND | StatusCode::GONE, _) => Err(Gone.into()),
            (StatusCode::CONFLICT, "upload_busy") => Ok(Appended::Busy),
            (StatusCode::CONFLICT, _) => Ok(Appended::Mismatch),
            _ => Err(error.into()),
        }
    }
}

/// `length` bytes of the file from `offset`, read as the connection takes them.
fn body(path: &Path, offset: u64, length: u64, sent: impl Fn(u64) + Send + Sync + 'static) -> anyhow::Result<Body> {
    let mut file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    file.seek(std::io::SeekFrom::Start(offset)).with_context(|| format!("seeking in {}", path.display()))?;
    let part = tokio::fs::File::from_std(file).take(length);
    let stream = tokio_util::io::ReaderStream::with_capacity(part, 64 * 1024).map(move |piece| {
        if let Ok(bytes) = &piece {
            sent(bytes.len() as u64);
        }
        piece
    });
    Ok(Body::wrap_stream(stream))
}
