//! The `ottr.media.v1.MediaService` handlers: who may call, which id, and the wire forms
//! (see [`crate::convert`]); the work is done elsewhere.

use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};
use uuid::Uuid;

use ottr_proto::media::v1::{self as pb, media_service_server::MediaService};
use ottr_runtime::token::{self, Role};

use crate::{
    MediaError, intake,
    pipeline::Context,
    store::{
        assets::{self, AssetState},
        jobs, page,
    },
    subtitles::edit::{self, NewTrack},
    uploads::{self, Access, Creator},
};

pub(crate) struct MediaApi {
    pub ctx: Context,
}

/// Editors and admins only.
fn require_staff<T>(request: &Request<T>) -> Result<Uuid, MediaError> {
    staff(token::caller(request))
}

/// The caller's id, if an editor or admin.
fn staff(caller: Option<&token::Caller>) -> Result<Uuid, MediaError> {
    let caller = caller.ok_or(MediaError::Unauthenticated)?;
    if caller.has(Role::Editor) || caller.has(Role::Admin) {
        Ok(caller.user_id)
    } else {
        Err(MediaError::PermissionDenied)
    }
}

/// Who asks for an upload: the client of a direct upload by its key, else its owner, an
/// editor or admin by token.
fn upload_access(caller: Option<&token::Caller>, key: &str) -> Result<Access, MediaError> {
    if key.is_empty() { Ok(Access::Owner(staff(caller)?)) } else { Ok(Access::Key(key.to_owned())) }
}

/// tus's checksum of one request's bytes, as the edge passes it on.
fn checksum(header: &pb::AppendHeader) -> Result<Option<uploads::Checksum>, MediaError> {
    use aws_lc_rs::digest;
    let algorithm = match header.checksum_algorithm.as_str() {
        "" => return Ok(None),
        "sha1" => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        "sha256" => &digest::SHA256,
        _ => return Err(MediaError::Invalid { field: "checksum_algorithm", message: "sha1 or sha256".into() }),
    };
    Ok(Some((header.checksum.to_vec(), digest::Context::new(algorithm))))
}

pub(crate) fn parse_id(field: &'static str, raw: &str) -> Result<Uuid, MediaError> {
    raw.parse().map_err(|_| MediaError::Invalid { field, message: "must be a UUID".into() })
}

impl MediaApi {
    async fn asset(&self, id: Uuid) -> Result<Response<pb::Asset>, Status> {
        Ok(Response::new(assets::get(&self.ctx.pool, id).await?.into()))
    }

    /// Records a state change made outside an attempt (cancel, requeue) as the job's
    /// event, and answers with the stored snapshot.
    async fn announce(&self, job_id: Uuid, change: impl FnOnce(&mut pb::JobEvent)) -> Result<pb::JobEvent, MediaError> {
        let mut event = self.ctx.events.snapshot(job_id).await?;
        change(&mut event);
        self.ctx.events.publish(event, None).await?;
        self.ctx.events.snapshot(job_id).await
    }
}

#[tonic::async_trait]
impl MediaService for MediaApi {
    #[tracing::instrument(skip_all)]
    async fn upload(&self, request: Request<Streaming<pb::UploadRequest>>) -> Result<Response<pb::Asset>, Status> {
        let uploader = require_staff(&request)?;
        let id = intake::intake(&self.ctx, request.into_inner(), uploader).await?;
        self.asset(id).await
    }

    #[tracing::instrument(skip_all)]
    async fn create_upload(
        &self,
        request: Request<pb::CreateUploadRequest>,
    ) -> Result<Response<pb::UploadSession>, Status> {
        let creator = match request.get_ref().direct_token.as_str() {
            "" => Creator::Staff(require_staff(&request)?),
            token => Creator::Direct(token.to_owned()),
        };
        let request = request.into_inner();
        let length = Some(request.length);
        let (row, key) = uploads::create(&self.ctx, creator, length, &request.filename).await?;
        Ok(Response::new(pb::UploadSession { key: key.unwrap_or_default(), ..(&row).into() }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_upload(&self, request: Request<pb::UploadRef>) -> Result<Response<pb::UploadSession>, Status> {
        let access = upload_access(token::caller(&request), &request.get_ref().key)?;
        let id = parse_id("id", &request.get_ref().id)?;
        Ok(Response::new((&uploads::find(&self.ctx, &access, id).await?).into()))
    }

    #[tracing::instrument(skip_all)]
    async fn append_upload(
        &self,
        request: Request<Streaming<pb::AppendUploadRequest>>,
    ) -> Result<Response<pb::UploadSession>, Status> {
        use pb::append_upload_request::Part;
        use tokio_stream::StreamExt;
        let caller = token::caller(&request).cloned();
        let mut stream = request.into_inner();
        let header = match stream.next().await {
            Some(Ok(pb::AppendUploadRequest { part: Some(Part::Header(header)) })) => header,
            Some(Err(status)) => return Err(MediaError::UploadStream(status).into()),
            _ => return Err(MediaError::Invalid { field: "header", message: "must come first".into() }.into()),
        };
        let access = upload_access(caller.as_ref(), &header.key)?;
        let id = parse_id("upload_id", &header.upload_id)?;
        let chunks = stream.map(|message| match message {
            Ok(pb::AppendUploadRequest { part: Some(Part::Chunk(chunk)) }) => Ok(chunk),
            Ok(_) => Err(MediaError::Invalid { field: "chunk", message: "only chunks may follow the header".into() }),
            Err(status) => Err(MediaError::UploadStream(status)),
        });
        let stored = header.stored.iter().map(|part| ottr_storage::Part {
            number: part.number,
            size: part.size,
            etag: part.etag.clone(),
        });
        let request = uploads::Request {
            offset: header.offset,
            length: header.length,
            checksum: checksum(&header)?,
            stored: stored.collect(),
        };
        let row = uploads::append(&self.ctx, &access, id, request, chunks).await?;
        Ok(Response::new((&row).into()))
    }

    #[tracing::instrument(skip_all)]
    async fn plan_append(&self, request: Request<pb::PlanAppendRequest>) -> Result<Response<pb::AppendPlan>, Status> {
        let access = upload_access(token::caller(&request), &request.get_ref().key)?;
        let request = request.into_inner();
        let id = parse_id("upload_id", &request.upload_id)?;
        let plan = uploads::presigned::plan(&self.ctx, &access, id, request.offset, request.length).await?;
        let parts =
            plan.parts.into_iter().map(|part| pb::PlannedPart { number: part.number, size: part.size, url: part.url });
        Ok(Response::new(pb::AppendPlan { stream_first: plan.stream_first, parts: parts.collect() }))
    }

    #[tracing::instrument(skip_all)]
    async fn delete_upload(&self, request: Request<pb::UploadRef>) -> Result<Response<pb::UploadSession>, Status> {
        let access = upload_access(token::caller(&request), &request.get_ref().key)?;
        let id = parse_id("id", &request.get_ref().id)?;
        Ok(Response::new((&uploads::delete(&self.ctx, &access, id).await?).into()))
    }

    #[tracing::instrument(skip_all)]
    async fn create_direct_upload(
        &self,
        request: Request<pb::CreateDirectUploadRequest>,
    ) -> Result<Response<pb::DirectUpload>, Status> {
        let owner = require_staff(&request)?;
        let request = request.into_inner();
        let grant =
            uploads::direct::grant(&self.ctx, owner, request.max_bytes, u64::from(request.expires_in_secs)).await?;
        Ok(Response::new(pb::DirectUpload {
            token: grant.token,
            max_bytes: grant.max_bytes,
            expires_at: grant.expires_at.unix_timestamp(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_asset(&self, request: Request<pb::GetAssetRequest>) -> Result<Response<pb::Asset>, Status> {
        require_staff(&request)?;
        self.asset(parse_id("id", &request.into_inner().id)?).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_playback(&self, request: Request<pb::GetPlaybackRequest>) -> Result<Response<pb::Playback>, Status> {
        token::caller(&request).ok_or(MediaError::Unauthenticated)?;
        let id = parse_id("asset_id", &request.into_inner().asset_id)?;
        let playback = pb::Playback::try_from(assets::get(&self.ctx.pool, id).await?)?;
        Ok(Response::new(playback))
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
        jobs::requeue(&self.ctx.pool, job_id, self.ctx.settings.worker.max_attempts).await?;
        let event = self
            .announce(job_id, |event| {
                event.phase = pb::Phase::Queued as i32;
                event.error_code.clear();
                event.error_message.clear();
                event.percent = 0.0;
            })
            .await?;
        Ok(Response::new(event))
    }

    #[tracing::instrument(skip_all)]
    async fn cancel_job(&self, request: Request<pb::JobRequest>) -> Result<Response<pb::JobEvent>, Status> {
        require_staff(&request)?;
        let job_id = parse_id("job_id", &request.into_inner().job_id)?;
        jobs::cancel(&self.ctx.pool, job_id).await?;
        let event = self.announce(job_id, |event| event.phase = pb::Phase::Cancelled as i32).await?;
        Ok(Response::new(event))
    }

    #[tracing::instrument(skip_all)]
    async fn list_assets(
        &self,
        request: Request<pb::ListAssetsRequest>,
    ) -> Result<Response<pb::ListAssetsResponse>, Status> {
        require_staff(&request)?;
        let body = request.into_inner();
        let state = match pb::AssetState::try_from(body.state).unwrap_or_default() {
            pb::AssetState::Unspecified => None,
            pb::AssetState::Processing => Some(AssetState::Processing),
            pb::AssetState::Ready => Some(AssetState::Ready),
            pb::AssetState::Failed => Some(AssetState::Failed),
            pb::AssetState::Cancelled => Some(AssetState::Cancelled),
        };
        let size = match body.page_size {
            0 => 20,
            n => n.min(100),
        } as usize;
        let after = page::decode(&body.page_token)?;
        let mut rows = assets::list(&self.ctx.pool, state, after, size as i64 + 1).await?;
        let next_page_token = if rows.len() > size {
            rows.truncate(size);
            rows.last().map(|row| page::encode(row.created_at, row.id)).unwrap_or_default()
        } else {
            String::new()
        };
        let assets = rows.into_iter().map(Into::into).collect();
        Ok(Response::new(pb::ListAssetsResponse { assets, next_page_token }))
    }

    #[tracing::instrument(skip_all)]
    async fn delete_asset(
        &self,
        request: Request<pb::DeleteAssetRequest>,
    ) -> Result<Response<pb::DeleteAssetResponse>, Status> {
        require_staff(&request)?;
        let asset_id = parse_id("asset_id", &request.into_inner().asset_id)?;
        let objects_deleted = crate::removal::delete_asset(&self.ctx, asset_id).await?;
        Ok(Response::new(pb::DeleteAssetResponse { objects_deleted }))
    }

    #[tracing::instrument(skip_all)]
    async fn put_subtitle(&self, request: Request<pb::PutSubtitleRequest>) -> Result<Response<pb::Asset>, Status> {
        require_staff(&request)?;
        let request = request.into_inner();
        let asset_id = parse_id("asset_id", &request.asset_id)?;
        let replace = Some(request.track_id).filter(|id| !id.is_empty());
        let track = NewTrack {
            language: request.language,
            label: request.label,
            kind: request.kind,
            forced: request.forced,
            content: request.content,
        };
        edit::put(&self.ctx, asset_id, replace, track).await?;
        self.asset(asset_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn remove_subtitle(
        &self,
        request: Request<pb::RemoveSubtitleRequest>,
    ) -> Result<Response<pb::Asset>, Status> {
        require_staff(&request)?;
        let request = request.into_inner();
        let asset_id = parse_id("asset_id", &request.asset_id)?;
        edit::remove(&self.ctx, asset_id, request.track_id).await?;
        self.asset(asset_id).await
    }
}
