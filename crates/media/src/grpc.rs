//! The `ottr.media.v1.MediaService` handlers.

use std::path::PathBuf;

use tokio::io::AsyncWriteExt;
use tokio_stream::{StreamExt, wrappers::ReceiverStream};
use tonic::{Request, Response, Status, Streaming};
use uuid::Uuid;

use ottr_proto::media::v1::{self as pb, media_service_server::MediaService, upload_request::Part};
use ottr_runtime::token::{self, Role};
use ottr_storage::keys::AssetKeys;

use crate::{
    MediaError,
    pipeline::Context,
    probe::{self, SourceInfo},
    queue::{self, AssetRow},
};

pub struct MediaApi {
    pub ctx: Context,
}

/// Editors and admins only.
fn require_staff<T>(request: &Request<T>) -> Result<Option<Uuid>, MediaError> {
    let caller = token::caller(request).ok_or(MediaError::Unauthenticated)?;
    if caller.has(Role::Editor) || caller.has(Role::Admin) {
        Ok(Some(caller.user_id))
    } else {
        Err(MediaError::PermissionDenied)
    }
}

fn parse_id(field: &'static str, raw: &str) -> Result<Uuid, MediaError> {
    raw.parse().map_err(|_| MediaError::Invalid { field, message: "must be a UUID".into() })
}

/// A staged upload, removed however the call ends.
struct Staged(PathBuf);

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn source_info(info: &SourceInfo) -> pb::SourceInfo {
    pb::SourceInfo {
        container: info.container.clone(),
        duration_secs: info.duration_secs,
        width: info.width,
        height: info.height,
        rotation: info.rotation,
        frame_rate: info.frame_rate,
        video_codec: info.video_codec.clone(),
        audio_codec: info.audio_codec.clone().unwrap_or_default(),
        size_bytes: info.size_bytes,
    }
}

/// The wire form of an asset. Object keys are given relative to nothing: the edge signs
/// playback URLs for them.
pub fn asset(row: AssetRow) -> pb::Asset {
    let state = match row.state.as_str() {
        "ready" => pb::AssetState::Ready,
        "failed" => pb::AssetState::Failed,
        "cancelled" => pb::AssetState::Cancelled,
        _ => pb::AssetState::Processing,
    };
    pb::Asset {
        id: row.id.to_string(),
        filename: row.filename,
        state: state as i32,
        source: Some(source_info(&row.source)),
        job_id: row.job_id.to_string(),
        renditions: row
            .renditions
            .0
            .into_iter()
            .map(|r| pb::Rendition { name: r.name, width: r.width, height: r.height, video_bitrate_kbps: r.video_kbps })
            .collect(),
        master_playlist: row.master_key.unwrap_or_default(),
        poster: row.poster_key.unwrap_or_default(),
        storyboard: row.storyboard_key.unwrap_or_default(),
        error_code: row.error_code.unwrap_or_default(),
        error_message: row.error_message.unwrap_or_default(),
        created_at: row.created_at.unix_timestamp(),
        ready_at: row.ready_at.map_or(0, |t| t.unix_timestamp()),
    }
}

impl MediaApi {
    /// Streams the chunks to a local file, never holding the whole upload in memory,
    /// and enforces the declared size against the limit and against what arrives.
    async fn receive(&self, mut stream: Streaming<pb::UploadRequest>) -> Result<(String, Staged, u64), MediaError> {
        let header = match stream.next().await {
            Some(Ok(pb::UploadRequest { part: Some(Part::Header(header)) })) => header,
            Some(Err(status)) => return Err(MediaError::Internal(format!("upload stream: {status}"))),
            _ => {
                return Err(MediaError::Invalid {
                    field: "header",
                    message: "the first message must be the header".into(),
                });
            }
        };
        let limit = self.ctx.settings.limits.max_upload_bytes;
        if header.size_bytes > limit {
            return Err(MediaError::TooLarge(limit));
        }
        if header.size_bytes == 0 {
            return Err(probe::Rejection::ZeroDuration.into());
        }
        let dir = self.ctx.settings.work_dir.join("uploads");
        tokio::fs::create_dir_all(&dir).await.map_err(|e| MediaError::Internal(e.to_string()))?;
        let staged = Staged(dir.join(Uuid::new_v4().to_string()));
        let mut file = tokio::fs::File::create(&staged.0).await.map_err(|e| MediaError::Internal(e.to_string()))?;
        let mut received = 0u64;
        while let Some(message) = stream.next().await {
            let chunk = match message.map_err(|s| MediaError::Internal(format!("upload stream: {s}")))?.part {
                Some(Part::Chunk(chunk)) => chunk,
                _ => {
                    return Err(MediaError::Invalid {
                        field: "chunk",
                        message: "only chunks may follow the header".into(),
                    });
                }
            };
            received += chunk.len() as u64;
            if received > header.size_bytes {
                return Err(MediaError::Incomplete { received, declared: header.size_bytes });
            }
            file.write_all(&chunk).await.map_err(|e| MediaError::Internal(e.to_string()))?;
        }
        file.flush().await.map_err(|e| MediaError::Internal(e.to_string()))?;
        if received != header.size_bytes {
            return Err(MediaError::Incomplete { received, declared: header.size_bytes });
        }
        Ok((header.filename, staged, received))
    }
}

#[tonic::async_trait]
impl MediaService for MediaApi {
    #[tracing::instrument(skip_all)]
    async fn upload(&self, request: Request<Streaming<pb::UploadRequest>>) -> Result<Response<pb::Asset>, Status> {
        let uploader = require_staff(&request)?;
        let started = std::time::Instant::now();
        let (filename, staged, size) = self.receive(request.into_inner()).await?;
        let received_secs = started.elapsed().as_secs_f64();
        let mut info =
            probe::probe(&staged.0, self.ctx.settings.limits.probe_limits()).await.map_err(MediaError::from)?;
        let probed_secs = started.elapsed().as_secs_f64();
        info.size_bytes = size;
        let asset_id = Uuid::new_v4();
        let extension = std::path::Path::new(&filename).extension().and_then(|e| e.to_str()).unwrap_or("");
        let source_key = AssetKeys::new(asset_id).source(extension);
        self.ctx.store.put_file(&source_key, &staged.0).await.map_err(MediaError::from)?;
        let filename: String = filename.chars().filter(|c| !c.is_control()).take(255).collect();
        let max_attempts = self.ctx.settings.worker.max_attempts;
        let created =
            queue::create(&self.ctx.pool, asset_id, &filename, &source_key, &info, uploader, max_attempts).await;
        if let Err(error) = created {
            // No orphaned source when the asset could not be recorded.
            let _ = self.ctx.store.delete(&source_key).await;
            return Err(error.into());
        }
        let stored_secs = started.elapsed().as_secs_f64();
        tracing::info!(%asset_id, size, received_secs, probed_secs, stored_secs, "source stored and queued");
        Ok(Response::new(asset(queue::asset(&self.ctx.pool, asset_id).await?)))
    }

    #[tracing::instrument(skip_all)]
    async fn get_asset(&self, request: Request<pb::GetAssetRequest>) -> Result<Response<pb::Asset>, Status> {
        require_staff(&request)?;
        let id = parse_id("id", &request.into_inner().id)?;
        Ok(Response::new(asset(queue::asset(&self.ctx.pool, id).await?)))
    }

    #[tracing::instrument(skip_all)]
    async fn get_playback(&self, request: Request<pb::GetPlaybackRequest>) -> Result<Response<pb::Playback>, Status> {
        token::caller(&request).ok_or(MediaError::Unauthenticated)?;
        let id = parse_id("asset_id", &request.into_inner().asset_id)?;
        let row = queue::asset(&self.ctx.pool, id).await?;
        let master =
            row.master_key.filter(|_| row.state != "cancelled").ok_or(MediaError::NotFound("playable asset"))?;
        Ok(Response::new(pb::Playback {
            asset_id: row.id.to_string(),
            master_playlist: master,
            poster: row.poster_key.unwrap_or_default(),
            storyboard: row.storyboard_key.unwrap_or_default(),
            ready: row.state == "ready",
            duration_secs: row.source.duration_secs,
        }))
    }

    type WatchJobStream = ReceiverStream<Result<pb::JobEvent, Status>>;

    #[tracing::instrument(skip_all)]
    async fn watch_job(&self, request: Request<pb::WatchJobRequest>) -> Result<Response<Self::WatchJobStream>, Status> {
        require_staff(&request)?;
        let job_id = parse_id("job_id", &request.into_inner().job_id)?;
        Ok(Response::new(self.ctx.events.watch(job_id).await?))
    }

    #[tracing::instrument(skip_all)]
    async fn requeue_job(&self, request: Request<pb::JobRequest>) -> Result<Response<pb::JobEvent>, Status> {
        require_staff(&request)?;
        let job_id = parse_id("job_id", &request.into_inner().job_id)?;
        queue::requeue(&self.ctx.pool, job_id, self.ctx.settings.worker.max_attempts).await?;
        let mut event = self.ctx.events.snapshot(job_id).await?;
        event.phase = pb::Phase::Queued as i32;
        event.error_code.clear();
        event.error_message.clear();
        event.percent = 0.0;
        self.ctx.events.publish(event, None).await?;
        Ok(Response::new(self.ctx.events.snapshot(job_id).await?))
    }

    #[tracing::instrument(skip_all)]
    async fn cancel_job(&self, request: Request<pb::JobRequest>) -> Result<Response<pb::JobEvent>, Status> {
        require_staff(&request)?;
        let job_id = parse_id("job_id", &request.into_inner().job_id)?;
        queue::cancel(&self.ctx.pool, job_id).await?;
        let mut event = self.ctx.events.snapshot(job_id).await?;
        event.phase = pb::Phase::Cancelled as i32;
        self.ctx.events.publish(event, None).await?;
        Ok(Response::new(self.ctx.events.snapshot(job_id).await?))
    }
}
