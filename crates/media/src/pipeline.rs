//! One attempt at one job: fetch the source, probe it, run the single ffmpeg ladder
//! while uploading its output, then the poster and storyboard, verify every object, and
//! mark the asset ready in one transaction. Every way out cleans up: the work folder
//! always, and this attempt's objects whenever it does not end ready.

use std::{path::PathBuf, sync::Arc, time::Duration};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    time::{Instant, MissedTickBehavior},
};

use ottr_proto::media::v1::{JobEvent, Phase, RenditionProgress};
use ottr_storage::{ObjectStore, StorageError, keys::AssetKeys};

use crate::{
    MediaError, MediaSettings,
    error::rejection_code,
    events::Events,
    probe::{self, Rejection},
    process::{self, ProcessError},
    queue::{self, Claim, Finished, Outcome},
    transcode::{command::Ladder, ladder, playlist, progress::Parser, storyboard},
    upload::Uploader,
};

/// What the pipeline needs, shared by every worker of the process.
#[derive(Clone)]
pub struct Context {
    pub pool: sqlx::PgPool,
    pub store: ObjectStore,
    pub events: Events,
    pub settings: Arc<MediaSettings>,
}

/// How an attempt ended, when it did not end ready.
#[derive(Debug, thiserror::Error)]
enum Stop {
    /// The source is not playable video: fail at once, no retry.
    #[error("{0}")]
    Rejected(Rejection),
    /// ffmpeg could not decode what probed fine: bad media too.
    #[error("ffmpeg could not transcode the source: {0}")]
    BadMedia(String),
    /// The lease was lost or the job cancelled: someone else owns what happens next.
    #[error("the job is no longer held by this attempt")]
    Lost,
    /// Anything that may pass: storage, database, a stall, a crash.
    #[error("{0}")]
    Retry(String),
}

impl From<StorageError> for Stop {
    fn from(error: StorageError) -> Self {
        Stop::Retry(format!("storage: {error}"))
    }
}

impl From<MediaError> for Stop {
    fn from(error: MediaError) -> Self {
        Stop::Retry(error.to_string())
    }
}

impl From<std::io::Error> for Stop {
    fn from(error: std::io::Error) -> Self {
        Stop::Retry(format!("local I/O: {error}"))
    }
}

/// The work folder of one attempt, removed on every path (drop included).
struct WorkDir(PathBuf);

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `claim` to its end and records the outcome.
pub async fn run(ctx: &Context, claim: Claim) {
    use tracing::Instrument;
    let span = tracing::info_span!("job", job_id = %claim.job_id, attempt = claim.attempt);
    let outcome = Attempt::new(ctx, &claim).run().instrument(span).await;
    if let Err(stop) = outcome {
        finish_with(ctx, &claim, stop).await;
    }
}

/// Nothing of an attempt that did not end ready stays: its master is withdrawn first, so
/// no player is sent to it, then its objects are deleted.
pub async fn discard(ctx: &Context, claim: &Claim) {
    if let Err(error) = queue::withdraw(&ctx.pool, claim.asset_id, claim.attempt).await {
        tracing::warn!(%error, "could not withdraw a failed attempt's playlist");
    }
    for prefix in
        [AssetKeys::new(claim.asset_id).hls(claim.attempt), AssetKeys::new(claim.asset_id).images(claim.attempt)]
    {
        if let Err(error) = ctx.store.delete_prefix(&prefix).await {
            tracing::warn!(%error, %prefix, "could not remove a failed attempt's objects");
        }
    }
}

async fn finish_with(ctx: &Context, claim: &Claim, stop: Stop) {
    discard(ctx, claim).await;
    let (outcome, code) = match &stop {
        Stop::Lost => {
            tracing::info!(job_id = %claim.job_id, attempt = claim.attempt, "attempt stopped: job no longer held");
            return;
        }
        Stop::Rejected(rejection) => (Outcome::Fail, rejection_code(rejection).as_str()),
        Stop::BadMedia(_) => (Outcome::Fail, ottr_runtime::ErrorCode::TranscodeFailed.as_str()),
        Stop::Retry(_) => {
            let backoff = ctx.settings.worker.retry_base_secs * (1 << (claim.attempt - 1).clamp(0, 6));
            (Outcome::Retry { after_secs: backoff }, ottr_runtime::ErrorCode::TranscodeFailed.as_str())
        }
    };
    let message = stop.to_string();
    tracing::warn!(job_id = %claim.job_id, attempt = claim.attempt, %code, %message, "attempt failed");
    match queue::fail(&ctx.pool, claim, outcome, code, &message).await {
        Ok(failed_for_good) => {
            let event = JobEvent {
                job_id: claim.job_id.to_string(),
                asset_id: claim.asset_id.to_string(),
                phase: if failed_for_good { Phase::Failed } else { Phase::Queued } as i32,
                attempt: claim.attempt as u32,
                error_code: code.to_owned(),
                error_message: message,
                ..Default::default()
            };
            let _ = ctx.events.publish(event, None).await;
        }
        Err(error) => tracing::error!(%error, "could not record a failed attempt; its lease will expire"),
    }
}

/// Called when a claim arrives with its attempts used up (its last worker died).
pub async fn give_up(ctx: &Context, claim: Claim) {
    let message = format!("gave up after {} attempts", claim.max_attempts);
    finish_with(ctx, &claim, Stop::BadMedia(message)).await;
}

struct Attempt<'a> {
    ctx: &'a Context,
    claim: &'a Claim,
    event: JobEvent,
}

impl<'a> Attempt<'a> {
    fn new(ctx: &'a Context, claim: &'a Claim) -> Self {
        let event = JobEvent {
            job_id: claim.job_id.to_string(),
            asset_id: claim.asset_id.to_string(),
            attempt: claim.attempt as u32,
            ..Default::default()
        };
        Self { ctx, claim, event }
    }

    /// Publishes the current event; a fenced-off attempt learns it here too.
    async fn publish(&self) -> Result<(), Stop> {
        match self.ctx.events.publish(self.event.clone(), Some(self.claim.attempt)).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(Stop::Lost),
            Err(error) => {
                tracing::warn!(%error, "progress not recorded");
                Ok(())
            }
        }
    }

    async fn phase(&mut self, phase: Phase) -> Result<(), Stop> {
        self.event.phase = phase as i32;
        self.publish().await
    }

    async fn run(mut self) -> Result<(), Stop> {
        let settings = &self.ctx.settings;
        let work = WorkDir(settings.work_dir.join(format!("{}-{}", self.claim.job_id, self.claim.attempt)));
        tokio::fs::create_dir_all(&work.0).await?;

        self.phase(Phase::Probing).await?;
        let source = work.0.join("source");
        self.ctx.store.download(&self.claim.source_key, &source).await?;
        let info = probe::probe(&source, settings.limits.probe_limits()).await.map_err(Stop::Rejected)?;
        let (width, height) = info.display_size();
        let rungs = ladder::plan(width, height);
        let frame_rate = ladder::frame_rate(info.frame_rate);
        let has_audio = info.audio_codec.is_some();

        self.phase(Phase::Transcoding).await?;
        let out_dir = work.0.join("hls");
        for rung in &rungs {
            tokio::fs::create_dir_all(out_dir.join(&rung.name)).await?;
        }
        let hls_prefix = AssetKeys::new(self.claim.asset_id).hls(self.claim.attempt);
        let mut uploader = Uploader::new(out_dir.clone(), hls_prefix, rungs.clone(), has_audio, frame_rate);
        let sheet_plan = storyboard::Plan::new(info.duration_secs, width, height);
        tokio::fs::create_dir_all(work.0.join("thumbs")).await?;
        let thumbs = work.0.join("thumbs").join("%04d.jpg");
        let command = Ladder {
            source: &source,
            out_dir: &out_dir,
            rungs: &rungs,
            frame_rate,
            has_audio,
            preset: &settings.worker.preset,
            guards: probe::input_guards(settings.limits.max_pixels),
            storyboard: Some((sheet_plan, &thumbs)),
        };
        self.transcode(command.args(), info.duration_secs, frame_rate, &mut uploader).await?;

        self.phase(Phase::Uploading).await?;
        uploader.sync(&self.ctx.store, true).await?;
        let ffmpeg_master = tokio::fs::read_to_string(out_dir.join("ffmpeg_master.m3u8")).await.unwrap_or_default();
        let master = uploader.master(Some(&playlist::codecs_by_uri(&ffmpeg_master)));
        self.ctx.store.put_bytes(&uploader.master_key(), master.into_bytes()).await?;

        self.phase(Phase::Finalizing).await?;
        let images = self.images(&source, &work.0, info.duration_secs, width, &sheet_plan, &thumbs).await?;
        let mut expected = uploader.expected_keys();
        expected.extend(images.iter().cloned());
        self.verify(&expected).await?;
        let finished = Finished {
            master_key: &uploader.master_key(),
            poster_key: &images[0],
            storyboard_key: &images[2],
            rungs: &rungs,
        };
        if !queue::complete(&self.ctx.pool, self.claim, &finished).await? {
            return Err(Stop::Lost);
        }
        self.sweep_other_attempts().await;
        self.event.percent = 100.0;
        self.event.eta_secs = 0.0;
        self.event.playable = true;
        for rendition in &mut self.event.renditions {
            rendition.state = "done".into();
        }
        self.event.phase = Phase::Ready as i32;
        let _ = self.ctx.events.publish(self.event.clone(), None).await;
        tracing::info!(job_id = %self.claim.job_id, asset_id = %self.claim.asset_id, "asset ready");
        Ok(())
    }

    /// Runs ffmpeg to its end, uploading as it goes, renewing the lease, publishing
    /// progress, and killing it when it stalls, overruns, or the job is lost.
    async fn transcode(
        &mut self,
        args: Vec<String>,
        duration: f64,
        frame_rate: f64,
        uploader: &mut Uploader,
    ) -> Result<(), Stop> {
        let worker = &self.ctx.settings.worker;
        let mut child = process::spawn("ffmpeg", &args).map_err(|e| Stop::Retry(e.to_string()))?;
        let stderr = process::drain_tail(child.stderr.take().expect("stderr is piped"));
        let mut lines = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
        let mut parser = Parser::default();
        let deadline = Instant::now() + Duration::from_secs(worker.hard_cap_secs);
        let mut last_advance = (Instant::now(), -1.0_f64);
        let tick = |ms: u64| {
            let mut t = tokio::time::interval(Duration::from_millis(ms));
            t.set_missed_tick_behavior(MissedTickBehavior::Delay);
            t
        };
        let (mut uploads, mut heartbeats, mut reports) =
            (tick(500), tick(worker.heartbeat_secs * 1000), tick(worker.progress_interval_ms));
        let mut stdout_open = true;
        let status = loop {
            tokio::select! {
                line = lines.next_line(), if stdout_open => match line {
                    Ok(Some(line)) => if let Some(mut sample) = parser.feed(&line) {
                        // out_time can lag behind (it follows the slowest output); frames of
                        // the first rung at the fixed output rate do not.
                        sample.out_time_secs = sample.out_time_secs.max(sample.frame as f64 / frame_rate);
                        if sample.out_time_secs > last_advance.1 {
                            last_advance = (Instant::now(), sample.out_time_secs);
                        }
                        self.event.percent = sample.percent(duration).min(99.0);
                        self.event.fps = sample.fps;
                        self.event.speed = sample.speed;
                        self.event.eta_secs = sample.eta_secs(duration).unwrap_or(0.0);
                    },
                    _ => stdout_open = false,
                },
                status = child.wait() => break status?,
                _ = uploads.tick() => {
                    uploader.sync(&self.ctx.store, false).await?;
                    if uploader.playable() && !self.event.playable {
                        self.ctx.store.put_bytes(&uploader.master_key(), uploader.master(None).into_bytes()).await?;
                        let rungs = uploader.rungs().to_vec();
                        if !queue::mark_playable(&self.ctx.pool, self.claim, &uploader.master_key(), &rungs).await? {
                            return Err(Stop::Lost);
                        }
                        self.event.playable = true;
                    }
                    self.event.renditions = uploader
                        .counts()
                        .into_iter()
                        .map(|(name, stored)| RenditionProgress {
                            name,
                            state: if stored > 0 { "playable" } else { "encoding" }.into(),
                            segments_stored: stored,
                        })
                        .collect();
                },
                _ = heartbeats.tick() => {
                    if !queue::heartbeat(&self.ctx.pool, self.claim, worker.lease_secs).await? {
                        return Err(Stop::Lost); // dropping the child kills ffmpeg
                    }
                },
                _ = reports.tick() => {
                    if last_advance.0.elapsed() > Duration::from_secs(worker.watchdog_secs) {
                        return Err(Stop::Retry(format!("ffmpeg made no progress for {} s and was killed", worker.watchdog_secs)));
                    }
                    self.publish().await?;
                },
                () = tokio::time::sleep_until(deadline) => {
                    return Err(Stop::Retry(format!("the transcode ran past its {} s cap and was killed", worker.hard_cap_secs)));
                }
            }
        };
        let tail = stderr.await.unwrap_or_default();
        if status.success() {
            return Ok(());
        }
        // Killed by a signal (out of memory, an operator): may pass. An exit code: ffmpeg
        // gave up on the input.
        match status.code() {
            Some(_) => Err(Stop::BadMedia(format!("ffmpeg exited with {status}; stderr ends: {tail}"))),
            None => Err(Stop::Retry(format!("ffmpeg was killed ({status}); stderr ends: {tail}"))),
        }
    }

    /// The poster (one seek and one frame) and the storyboard sheet ffmpeg drew during the
    /// transcode; returns the keys [poster, storyboard image, storyboard cues].
    async fn images(
        &self,
        source: &std::path::Path,
        work: &std::path::Path,
        duration: f64,
        width: u32,
        plan: &storyboard::Plan,
        thumbs: &std::path::Path,
    ) -> Result<Vec<String>, Stop> {
        let guards = probe::input_guards(self.ctx.settings.limits.max_pixels);
        let limit = Duration::from_secs(600);
        let poster = work.join("poster.jpg");
        let at = (duration * 0.1).min(duration - 0.1).max(0.0);
        process::run("ffmpeg", &storyboard::poster_args(source, &poster, at, width.min(1280), &guards), limit)
            .await
            .map_err(bad_media)?;
        let sheet = work.join("storyboard.jpg");
        process::run("ffmpeg", &plan.sheet_args(thumbs, &sheet), limit)
            .await
            .map_err(|e| Stop::Retry(e.to_string()))?;
        let prefix = AssetKeys::new(self.claim.asset_id).images(self.claim.attempt);
        let keys =
            vec![format!("{prefix}poster.jpg"), format!("{prefix}storyboard.jpg"), format!("{prefix}storyboard.vtt")];
        self.ctx.store.put_file(&keys[0], &poster).await?;
        self.ctx.store.put_file(&keys[1], &sheet).await?;
        self.ctx.store.put_bytes(&keys[2], plan.vtt("storyboard.jpg", duration).into_bytes()).await?;
        Ok(keys)
    }

    /// Nothing is marked ready until every object is there and not empty.
    async fn verify(&self, expected: &[String]) -> Result<(), Stop> {
        for key in expected {
            match self.ctx.store.head(key).await? {
                Some(meta) if meta.size > 0 => {}
                _ => return Err(Stop::Retry(format!("{key} is missing from storage after upload"))),
            }
        }
        Ok(())
    }

    /// Objects of earlier attempts (a worker killed mid-way) are removed by the winner.
    async fn sweep_other_attempts(&self) {
        let own = [
            AssetKeys::new(self.claim.asset_id).hls(self.claim.attempt),
            AssetKeys::new(self.claim.asset_id).images(self.claim.attempt),
        ];
        for root in [AssetKeys::new(self.claim.asset_id).hls_root(), AssetKeys::new(self.claim.asset_id).images_root()]
        {
            let Ok(found) = self.ctx.store.list(&root).await else { continue };
            for key in found.iter().filter(|k| !own.iter().any(|o| k.starts_with(o.as_str()))) {
                if let Err(error) = self.ctx.store.delete(key).await {
                    tracing::warn!(%error, %key, "could not remove an abandoned attempt's object");
                }
            }
        }
    }
}

fn bad_media(error: ProcessError) -> Stop {
    match error {
        ProcessError::Failed { .. } => Stop::BadMedia(error.to_string()),
        other => Stop::Retry(other.to_string()),
    }
}
