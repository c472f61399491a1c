//! The steps of one attempt: fetch the source, probe it, decide its picture filters and
//! tracks (measuring each audio stream's loudness, taking out its text subtitles), run the
//! single ffmpeg ladder (supervised, see [`super::supervise`]) while its output is
//! published, then the master; then, at once, measure the audio that came out, make the
//! poster and storyboard, and remux the MP4 download from a rung; verify every object, and
//! mark the asset ready in one transaction. The work folder goes on every path.

use std::path::PathBuf;

use futures_util::TryStreamExt;

use ottr_proto::media::v1::{JobEvent, Phase};
use ottr_storage::keys::{AssetKeys, Tree};

use super::{
    Context, WorkDir,
    outcome::{Fault, Stop, ffmpeg_failed},
};
use crate::{
    probe::{self, SourceInfo},
    process,
    publish::Publisher,
    store::jobs::{self, Claim, Finished},
    subtitles,
    transcode::{
        command::{self, AudioGroup, Ladder},
        download,
        ladder::{self, Rung},
        loudness::{self, Peak},
        picture::{self, Picture},
        playlist, storyboard,
        tracks::{self, AudioChoice, AudioRendition, Loudness, Tracks},
    },
};

/// How long the poster and the storyboard sheet may take.
const IMAGE_LIMIT: std::time::Duration = std::time::Duration::from_secs(600);

/// How many objects [`Attempt::verify`] checks at once.
const VERIFY_AT_ONCE: usize = 16;

/// How long the download's remux may take: a copy, bound by the disk, not the picture.
const REMUX_LIMIT: std::time::Duration = std::time::Duration::from_secs(1800);

pub(super) struct Attempt<'a> {
    pub(super) ctx: &'a Context,
    pub(super) claim: &'a Claim,
    pub(super) event: JobEvent,
}

/// What the probe decided, and where this attempt's files go.
pub(super) struct Plan {
    pub(super) work: WorkDir,
    pub(super) source: PathBuf,
    pub(super) info: SourceInfo,
    pub(super) rungs: Vec<Rung>,
    pub(super) frame_rate: f64,
    pub(super) sheet: storyboard::Plan,
    /// Audio renditions (measured), subtitle tracks (stored), notes and picture filters.
    pub(super) tracks: Tracks,
}

impl Plan {
    fn out_dir(&self) -> PathBuf {
        self.work.0.join("hls")
    }

    fn thumbs(&self) -> PathBuf {
        self.work.0.join("thumbs").join("%04d.jpg")
    }
}

impl<'a> Attempt<'a> {
    pub(super) fn new(ctx: &'a Context, claim: &'a Claim) -> Self {
        Self { ctx, claim, event: JobEvent::from(claim) }
    }

    /// Publishes the current event; a fenced-off attempt learns it here too.
    pub(super) async fn publish(&self) -> Result<(), Stop> {
        match self.ctx.events.publish(self.event.clone(), Some(self.claim.attempt)).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(Stop::Lost),
            Err(error) => {
                tracing::warn!(error = %ottr_runtime::service_error::chain(&error), "progress not recorded");
                Ok(())
            }
        }
    }

    async fn phase(&mut self, phase: Phase) -> Result<(), Stop> {
        self.event.phase = phase as i32;
        self.publish().await
    }

    pub(super) async fn run(mut self) -> Result<(), Stop> {
        self.phase(Phase::Probing).await?;
        let plan = self.beating(self.plan()).await?;
        self.phase(Phase::Transcoding).await?;
        let (mut publisher, audio) = self.transcode(&plan).await?;
        self.phase(Phase::Uploading).await?;
        publisher.sync(&self.ctx.store, true).await.map_err(Fault::from)?;
        let mut tracks = Tracks { audio, ..plan.tracks.clone() };
        publisher.measure_audio(&mut tracks.audio);
        let ffmpeg_master =
            tokio::fs::read_to_string(plan.out_dir().join("ffmpeg_master.m3u8")).await.unwrap_or_default();
        let master = publisher.master(Some(&playlist::codecs_by_uri(&ffmpeg_master)));
        self.ctx.store.put_bytes(&publisher.master_key(), master.into_bytes()).await?;
        self.phase(Phase::Finalizing).await?;
        // Each audio rendition as one file, before anything reads them at once.
        let mut audio_files = Vec::with_capacity(tracks.audio.len());
        for rendition in &tracks.audio {
            audio_files.push(joined(&plan, &publisher, &rendition.name).await?);
        }
        // Three short ffmpeg runs over finished files, none waiting for another: one after
        // the other they were most of the time between the last segment and ready.
        let (measured, images, download) = self
            .beating(async {
                tokio::try_join!(
                    self.measure_output(&tracks, &audio_files),
                    self.images(&plan),
                    self.download(&plan, &publisher, &tracks),
                )
            })
            .await?;
        if let Some(measured) = measured {
            for (rendition, result) in tracks.audio.iter_mut().zip(measured) {
                rendition.result = result;
            }
        }
        let mut expected = publisher.expected_keys();
        expected.extend(images.iter().cloned());
        expected.extend(download.iter().map(|(key, _)| key.clone()));
        self.verify(&expected).await?;
        let finished = Finished {
            master_key: &publisher.master_key(),
            poster_key: &images[0],
            storyboard_key: &images[2],
            rungs: &publisher.measured_rungs(),
            tracks: &tracks,
            download: download.as_ref().map(|(key, bytes)| (key.as_str(), *bytes)),
        };
        self.finish(&finished).await
    }

    /// Fetches and probes the source, and decides the ladder.
    async fn plan(&self) -> Result<Plan, Stop> {
        let settings = &self.ctx.settings;
        let work = WorkDir(settings.work_dir.join(format!("{}-{}", self.claim.job_id, self.claim.attempt)));
        tokio::fs::create_dir_all(&work.0).await?;
        let source = work.0.join("source");
        self.ctx.store.download(&self.claim.source_key, &source).await?;
        let info = probe::probe(&source, settings.limits.probe_limits()).await?;
        let (width, height) = info.display_size();
        let sheet = storyboard::Plan::new(info.duration_secs, width, height);
        let (rungs, frame_rate) = (ladder::plan(width, height), ladder::frame_rate(info.frame_rate));
        let tracks = self.tracks(&source, &info, &work).await?;
        Ok(Plan { work, source, info, rungs, frame_rate, sheet, tracks })
    }

    /// The picture's filters, the audio renditions, and the source's text subtitles,
    /// stored before the ladder starts so the first master already offers them.
    async fn tracks(&self, source: &std::path::Path, info: &SourceInfo, work: &WorkDir) -> Result<Tracks, Stop> {
        let settings = &self.ctx.settings;
        let max_pixels = settings.limits.max_pixels;
        let interlaced = picture::interlaced(source, info, max_pixels).await.unwrap_or_else(|error| {
            tracing::warn!(%error, "idet could not tell how the source is scanned; taken as progressive");
            false
        });
        let choice = AudioChoice { max_streams: settings.audio.max_streams, surround: settings.audio.surround };
        let plan = tracks::plan(&info.audio, &info.subtitles, choice);
        let mut tracks = Tracks {
            audio: plan.audio,
            subtitles: Vec::new(),
            notes: plan.notes,
            picture: Picture::new(info, interlaced),
        };
        tracks.subtitles = self.source_subtitles(source, info, work, plan.subtitles, &mut tracks.notes).await?;
        Ok(tracks)
    }

    /// Takes the text subtitle streams out as WebVTT, cleans and stores them; a stream
    /// that yields nothing usable is noted and left out, never failing the asset.
    async fn source_subtitles(
        &self,
        source: &std::path::Path,
        info: &SourceInfo,
        work: &WorkDir,
        wanted: Vec<tracks::SubtitleTrack>,
        notes: &mut Vec<String>,
    ) -> Result<Vec<tracks::SubtitleTrack>, Stop> {
        let indexes: Vec<usize> = wanted.iter().filter_map(|t| t.source_index).collect();
        if indexes.is_empty() {
            return Ok(Vec::new());
        }
        let found = subtitles::extract(source, self.ctx.settings.limits.max_pixels, &work.0, &indexes).await;
        let prefix = AssetKeys::new(self.claim.asset_id).hls(self.claim.attempt);
        let mut kept = Vec::new();
        for ((track, index), cues) in wanted.into_iter().zip(indexes).zip(found) {
            match cues {
                Ok(cues) => {
                    subtitles::store_track(&self.ctx.store, &prefix, &track.folder, &cues, info.duration_secs).await?;
                    kept.push(track);
                }
                Err(error) => notes.push(format!("subtitle stream {index} left out: {error}")),
            }
        }
        Ok(kept)
    }

    /// The loudness of each audio rendition as encoded, read from `files` (its segments
    /// joined), in the renditions' order; none when loudness is off or there is no audio.
    async fn measure_output(&self, tracks: &Tracks, files: &[PathBuf]) -> Result<Option<Vec<Option<Loudness>>>, Stop> {
        if !self.ctx.settings.audio.loudness.enabled || tracks.audio.is_empty() {
            return Ok(None);
        }
        let inputs: Vec<&std::path::Path> = files.iter().map(PathBuf::as_path).collect();
        let streams: Vec<(String, &str)> =
            tracks.audio.iter().enumerate().map(|(k, a)| (format!("{k}:a:0"), loudness::layout(a))).collect();
        let measured = loudness::measure(&inputs, &streams, Peak::True, self.ctx.settings.limits.max_pixels)
            .await
            .map_err(Fault::from)?;
        Ok(Some(measured))
    }

    /// Runs the ladder under supervision, and the audio group beside it; returns the
    /// publisher holding what went up, and the audio renditions with their measurements.
    async fn transcode(&mut self, plan: &Plan) -> Result<(Publisher, Vec<AudioRendition>), Stop> {
        let out_dir = plan.out_dir();
        let folders = plan.rungs.iter().map(|r| &r.name).chain(plan.tracks.audio.iter().map(|a| &a.name));
        for folder in folders {
            tokio::fs::create_dir_all(out_dir.join(folder)).await?;
        }
        tokio::fs::create_dir_all(plan.work.0.join("thumbs")).await?;
        let hls_prefix = AssetKeys::new(self.claim.asset_id).hls(self.claim.attempt);
        let mut publisher =
            Publisher::new(out_dir.clone(), hls_prefix, plan.rungs.clone(), &plan.tracks, plan.frame_rate);
        let thumbs = plan.thumbs();
        let command = Ladder {
            source: &plan.source,
            out_dir: &out_dir,
            rungs: &plan.rungs,
            frame_rate: plan.frame_rate,
            picture: plan.tracks.picture,
            encoder: &self.ctx.settings.video,
            opening_segments: command::opening_segments(plan.info.duration_secs),
            max_pixels: self.ctx.settings.limits.max_pixels,
            storyboard: Some((plan.sheet, &thumbs)),
        };
        let audio = encode_audio(self.ctx, plan);
        let audio = self.supervise(command.args(), plan, &mut publisher, audio).await?;
        Ok((publisher, audio))
    }

    /// The poster (one seek and one frame) and the storyboard sheet ffmpeg drew during the
    /// transcode; returns the keys [poster, storyboard image, storyboard cues].
    async fn images(&self, plan: &Plan) -> Result<Vec<String>, Stop> {
        let (duration, (width, _)) = (plan.info.duration_secs, plan.info.display_size());
        let poster = plan.work.0.join("poster.jpg");
        let at = (duration * 0.1).min(duration - 0.1).max(0.0);
        let max_pixels = self.ctx.settings.limits.max_pixels;
        let args = storyboard::poster_args(&plan.source, &poster, at, width.min(1280), max_pixels);
        process::run("ffmpeg", &args, IMAGE_LIMIT).await.map_err(ffmpeg_failed)?;
        let sheet = plan.work.0.join("storyboard.jpg");
        process::run("ffmpeg", &plan.sheet.sheet_args(&plan.thumbs(), &sheet), IMAGE_LIMIT)
            .await
            .map_err(Fault::from)?;
        let prefix = AssetKeys::new(self.claim.asset_id).images(self.claim.attempt);
        let keys =
            vec![format!("{prefix}poster.jpg"), format!("{prefix}storyboard.jpg"), format!("{prefix}storyboard.vtt")];
        self.ctx.store.put_file(&keys[0], &poster).await?;
        self.ctx.store.put_file(&keys[1], &sheet).await?;
        self.ctx.store.put_bytes(&keys[2], plan.sheet.vtt("storyboard.jpg", duration).into_bytes()).await?;
        Ok(keys)
    }

    /// The MP4 download of the rung the settings pick, with the default audio: its key and
    /// size, or none when downloads are off. Made from the segments still on disk.
    async fn download(
        &self,
        plan: &Plan,
        publisher: &Publisher,
        tracks: &Tracks,
    ) -> Result<Option<(String, u64)>, Stop> {
        let settings = self.ctx.settings.downloads;
        let Some(rung) = download::pick(&plan.rungs, settings.max_lines).filter(|_| settings.enabled) else {
            return Ok(None);
        };
        let video = joined(plan, publisher, &rung.name).await?;
        let audio = tracks.audio.iter().find(|a| a.default).or(tracks.audio.first());
        let audio = match audio {
            Some(rendition) => Some(joined(plan, publisher, &rendition.name).await?),
            None => None,
        };
        let out = plan.work.0.join("download.mp4");
        let args = download::args(&video, audio.as_deref(), &out);
        process::run("ffmpeg", &args, REMUX_LIMIT).await.map_err(Fault::from)?;
        let bytes = tokio::fs::metadata(&out).await?.len();
        let key = format!(
            "{}{}.mp4",
            AssetKeys::new(self.claim.asset_id).attempt(Tree::Files, self.claim.attempt),
            rung.name
        );
        self.ctx.store.put_file(&key, &out).await?;
        Ok(Some((key, bytes)))
    }

    /// Nothing is marked ready until every object is there and not empty. The checks go
    /// [`VERIFY_AT_ONCE`] at a time: a long title has thousands of objects, and each
    /// check is a round trip to the store.
    async fn verify(&self, expected: &[String]) -> Result<(), Stop> {
        futures_util::stream::iter(expected.iter().map(Ok))
            .try_for_each_concurrent(VERIFY_AT_ONCE, |key| async move {
                match self.ctx.store.head(key).await? {
                    Some(meta) if meta.size > 0 => Ok(()),
                    _ => Err(Stop::from(Fault::Missing(key.clone()))),
                }
            })
            .await
    }

    /// Job and asset ready in one transaction, then the final event.
    async fn finish(mut self, finished: &Finished<'_>) -> Result<(), Stop> {
        if !jobs::complete(&self.ctx.pool, self.claim, finished).await? {
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

    /// Objects of earlier attempts (a worker killed mid-way) are removed by the winner.
    async fn sweep_other_attempts(&self) {
        let (asset_id, attempt) = (self.claim.asset_id, self.claim.attempt);
        let keys = AssetKeys::new(asset_id);
        let own = [Tree::Hls, Tree::Images, Tree::Files].map(|tree| keys.attempt(tree, attempt));
        for root in [Tree::Hls, Tree::Images, Tree::Files].map(|tree| keys.root(tree)) {
            let Ok(found) = self.ctx.store.list(&root).await else { continue };
            for key in found.iter().filter(|k| !own.iter().any(|o| k.starts_with(o.as_str()))) {
                if let Err(error) = self.ctx.store.delete(key).await {
                    tracing::warn!(%error, %key, "could not remove an abandoned attempt's object");
                }
            }
        }
    }
}

/// One rendition's init segment and media segments as one file: an fMP4 init segment
/// followed by its media segments is one fragmented MP4. A file already joined is taken
/// as it is, so nothing may join the same rendition at the same time.
async fn joined(plan: &Plan, publisher: &Publisher, folder: &str) -> Result<PathBuf, Stop> {
    let path = plan.work.0.join(format!("{folder}.mp4"));
    if tokio::fs::try_exists(&path).await? {
        return Ok(path);
    }
    let mut out = tokio::fs::File::create(&path).await?;
    for part in publisher.local_files(folder) {
        let mut input = tokio::fs::File::open(part).await?;
        tokio::io::copy(&mut input, &mut out).await?;
    }
    Ok(path)
}

/// The audio group: each rendition's loudness measured once (the scanner reads only the
/// audio, while the ladder already encodes the picture), then every rendition encoded
/// once into its folder beside the rungs. Returns the renditions with their measurements.
async fn encode_audio(ctx: &Context, plan: &Plan) -> Result<Vec<AudioRendition>, Stop> {
    let mut audio = plan.tracks.audio.clone();
    if audio.is_empty() {
        return Ok(audio);
    }
    let settings = &ctx.settings;
    let max_pixels = settings.limits.max_pixels;
    if settings.audio.loudness.enabled {
        let streams: Vec<(String, &str)> =
            audio.iter().map(|a| (format!("0:a:{}", a.source_index), loudness::layout(a))).collect();
        let measured =
            loudness::measure(&[&plan.source], &streams, Peak::Sample, max_pixels).await.map_err(ffmpeg_failed)?;
        for (rendition, measured) in audio.iter_mut().zip(measured) {
            rendition.measured = measured;
        }
    }
    let out_dir = plan.out_dir();
    let group = AudioGroup {
        source: &plan.source,
        out_dir: &out_dir,
        audio: &audio,
        loudness: &settings.audio.loudness,
        max_pixels,
    };
    let limit = std::time::Duration::from_secs(settings.worker.hard_cap_secs);
    process::run("ffmpeg", &group.args(), limit).await.map_err(ffmpeg_failed)?;
    Ok(audio)
}
