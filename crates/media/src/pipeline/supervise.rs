//! Supervising the ladder's one ffmpeg process while it runs: its progress lines become
//! events, finished segments are published as they appear, the lease is renewed, and
//! ffmpeg is killed when it stalls (watchdog), overruns its hard cap, or the job is lost
//! (dropping the child kills it).

use std::{process::ExitStatus, time::Duration};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    time::{Instant, Interval, MissedTickBehavior},
};

use ottr_proto::media::v1::RenditionProgress;

use super::{
    attempt::{Attempt, Plan},
    outcome::{Fault, Stop},
};
use crate::{
    config::WorkerSettings,
    process,
    publish::Publisher,
    store::{assets, jobs},
    transcode::{progress::Parser, tracks::Tracks},
};

/// How often finished segments are looked for once the asset is playable.
const PUBLISH_EVERY: Duration = Duration::from_millis(500);

/// How often until then: each look is a listing of the work folder, and until the first
/// segment of every rung is out a viewer is waiting for it (half a period on average).
const FIRST_PLAYABLE_EVERY: Duration = Duration::from_millis(100);

/// The timers of one run.
struct Clock {
    publish: Interval,
    heartbeat: Interval,
    report: Interval,
    deadline: Instant,
}

fn tick(period: Duration) -> Interval {
    let mut t = tokio::time::interval(period);
    t.set_missed_tick_behavior(MissedTickBehavior::Delay);
    t
}

impl Clock {
    fn new(worker: &WorkerSettings, playable: bool) -> Self {
        Self {
            publish: tick(if playable { PUBLISH_EVERY } else { FIRST_PLAYABLE_EVERY }),
            heartbeat: tick(Duration::from_secs(worker.heartbeat_secs)),
            report: tick(Duration::from_millis(worker.progress_interval_ms)),
            deadline: Instant::now() + Duration::from_secs(worker.hard_cap_secs),
        }
    }

    /// Slows the look for segments down once the asset is playable.
    fn publishing(&mut self, playable: bool) {
        if playable && self.publish.period() != PUBLISH_EVERY {
            self.publish = tick(PUBLISH_EVERY);
            self.publish.reset();
        }
    }
}

/// ffmpeg's progress as the watchdog sees it.
struct Progress {
    parser: Parser,
    duration: f64,
    frame_rate: f64,
    /// When output time last moved forward, and to where.
    last_advance: (Instant, f64),
}

impl Attempt<'_> {
    /// Runs ffmpeg with `args` to its end under supervision, with `audio` (the audio
    /// group's own process) beside it; a failure of either stops both. Returns what
    /// `audio` returned.
    pub(super) async fn supervise<T>(
        &mut self,
        args: Vec<String>,
        plan: &Plan,
        publisher: &mut Publisher,
        audio: impl Future<Output = Result<T, Stop>>,
    ) -> Result<T, Stop> {
        let mut audio = std::pin::pin!(audio);
        let mut audio_done = None;
        let ctx = self.ctx;
        let worker = &ctx.settings.worker;
        let mut child = process::spawn("ffmpeg", &args).map_err(Fault::from)?;
        let stderr = process::drain_tail(child.stderr.take().expect("stderr is piped"));
        let mut lines = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
        let mut clock = Clock::new(worker, self.event.playable);
        let mut progress = Progress {
            parser: Parser::default(),
            duration: plan.info.duration_secs,
            frame_rate: plan.frame_rate,
            last_advance: (Instant::now(), -1.0),
        };
        let mut stdout_open = true;
        let status = loop {
            tokio::select! {
                line = lines.next_line(), if stdout_open => match line {
                    Ok(Some(line)) => self.on_progress_line(&mut progress, &line),
                    _ => stdout_open = false,
                },
                status = child.wait() => break status?,
                done = &mut audio, if audio_done.is_none() => audio_done = Some(done?),
                _ = clock.publish.tick() => {
                    self.on_publish_tick(publisher, &plan.tracks).await?;
                    clock.publishing(self.event.playable);
                }
                _ = clock.heartbeat.tick() => self.on_heartbeat(worker.lease_secs).await?,
                _ = clock.report.tick() => self.on_report(&progress, worker.watchdog_secs).await?,
                () = tokio::time::sleep_until(clock.deadline) => return Err(Fault::OverCap(worker.hard_cap_secs).into()),
            }
        };
        verdict(status, stderr.await.unwrap_or_default())?;
        match audio_done {
            Some(done) => Ok(done),
            None => self.beating(audio).await,
        }
    }

    /// Runs `work` while renewing the lease: the steps outside the ladder that read a whole
    /// source or output (subtitles, loudness) can outlast a lease on a long film.
    pub(super) async fn beating<T>(&self, work: impl Future<Output = Result<T, Stop>>) -> Result<T, Stop> {
        let worker = &self.ctx.settings.worker;
        let mut work = std::pin::pin!(work);
        let mut heartbeat = tokio::time::interval(Duration::from_secs(worker.heartbeat_secs));
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        heartbeat.tick().await; // the first tick is at once; the claim has just renewed the lease
        loop {
            tokio::select! {
                done = &mut work => return done,
                _ = heartbeat.tick() => self.on_heartbeat(worker.lease_secs).await?,
            }
        }
    }

    fn on_progress_line(&mut self, progress: &mut Progress, line: &str) {
        let Some(mut sample) = progress.parser.feed(line) else { return };
        // out_time can lag behind (it follows the slowest output); frames of the first
        // rung at the fixed output rate do not.
        sample.out_time_secs = sample.out_time_secs.max(sample.frame as f64 / progress.frame_rate);
        if sample.out_time_secs > progress.last_advance.1 {
            progress.last_advance = (Instant::now(), sample.out_time_secs);
        }
        self.event.percent = sample.percent(progress.duration).min(99.0);
        self.event.fps = sample.fps;
        self.event.speed = sample.speed;
        self.event.eta_secs = sample.eta_secs(progress.duration).unwrap_or(0.0);
    }

    /// Publishes finished segments; once every rung has one, the asset becomes playable.
    async fn on_publish_tick(&mut self, publisher: &mut Publisher, tracks: &Tracks) -> Result<(), Stop> {
        let ctx = self.ctx;
        let store = &ctx.store;
        publisher.sync(store, false).await?;
        if publisher.playable() && !self.event.playable {
            store.put_bytes(&publisher.master_key(), publisher.master(None).into_bytes()).await?;
            if !assets::mark_playable(&ctx.pool, self.claim, &publisher.master_key(), publisher.rungs(), tracks).await?
            {
                return Err(Stop::Lost);
            }
            self.event.playable = true;
        }
        self.event.renditions = publisher
            .counts()
            .into_iter()
            .map(|(name, stored)| RenditionProgress {
                name,
                state: if stored > 0 { "playable" } else { "encoding" }.into(),
                segments_stored: stored,
            })
            .collect();
        Ok(())
    }

    async fn on_heartbeat(&self, lease_secs: i64) -> Result<(), Stop> {
        if jobs::heartbeat(&self.ctx.pool, self.claim, lease_secs).await? { Ok(()) } else { Err(Stop::Lost) }
    }

    /// Reports progress, unless ffmpeg has stopped advancing for too long.
    async fn on_report(&self, progress: &Progress, watchdog_secs: u64) -> Result<(), Stop> {
        if progress.last_advance.0.elapsed() > Duration::from_secs(watchdog_secs) {
            return Err(Fault::Stalled(watchdog_secs).into());
        }
        self.publish().await
    }
}

/// Killed by a signal (out of memory, an operator): may pass. An exit code: ffmpeg gave
/// up on the input.
fn verdict(status: ExitStatus, stderr_tail: String) -> Result<(), Stop> {
    if status.success() {
        return Ok(());
    }
    let status_text = status.to_string();
    match status.code() {
        Some(_) => Err(Stop::Exited { status: status_text, stderr_tail }),
        None => Err(Fault::Killed { status: status_text, stderr_tail }.into()),
    }
}
