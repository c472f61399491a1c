//! The durable queue: an abandoned attempt is taken over once its lease runs out and the
//! job completes exactly once, with nothing of the abandoned attempt left in storage;
//! fencing refuses the late writes of the attempt that lost its lease; cancel and
//! requeue do what editors expect.

use ottr_media::store::{assets, jobs};
use ottr_proto::media::v1 as pb;
use ottr_storage::keys::AssetKeys;
use sqlx::PgPool;

use crate::helpers::{Scratch, TestApp, bearer, clip, code, landscape, spawn_app_with};

/// An API instance that runs no worker, with a `seconds`-long landscape clip uploaded to
/// it: the job waits in the queue for whoever claims it.
async fn queued(pool: &PgPool, seconds: u32) -> (TestApp, pb::Asset, Scratch) {
    let api = spawn_app_with(pool.clone(), |s| s.worker.enabled = false).await;
    let scratch = Scratch::new();
    let asset = api.upload(&landscape(&scratch.0, seconds)).await.unwrap();
    (api, asset, scratch)
}

/// A second media process with a worker, sharing `first`'s database and storage, takes the
/// job over: it ends ready exactly once, as attempt 2, and nothing is left under the
/// first attempt's `abandoned` prefix. Returns the second process and the ready asset.
async fn taken_over(pool: &PgPool, first: &TestApp, asset: &pb::Asset, abandoned: &str) -> (TestApp, pb::Asset) {
    let objects = first.objects.clone();
    let second = spawn_app_with(pool.clone(), move |s| s.storage.local_root = objects).await;
    let events = second.watch(&asset.job_id).await;
    assert_eq!(events.last().unwrap().phase, pb::Phase::Ready as i32);
    assert_eq!(events.iter().filter(|e| e.phase == pb::Phase::Ready as i32).count(), 1, "one transition to ready");
    let (state, attempt): (String, i32) = sqlx::query_as("SELECT state, attempt FROM media.jobs WHERE id = $1::uuid")
        .bind(&asset.job_id)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!((state.as_str(), attempt), ("ready", 2));
    assert!(second.stored(abandoned).await.is_empty(), "nothing of the abandoned attempt is left");
    let ready = second.asset(&asset.id).await;
    let asset_id: uuid::Uuid = asset.id.parse().unwrap();
    assert!(ready.master_playlist.starts_with(&AssetKeys::new(asset_id).hls(2)));
    (second, ready)
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn an_abandoned_attempt_is_completed_by_another_worker_exactly_once(pool: PgPool) {
    let (api, asset, _scratch) = queued(&pool, 3).await;

    // A worker claims it with a short lease, stores part of its output, and dies: it is
    // never heard from again (no heartbeat, no cleanup). This stands in for kill -9 of
    // a worker process; the fault test under scripts/ kills a real one.
    let ghost = jobs::claim(&pool, "ghost", 1).await.unwrap().expect("the job is claimable");
    assert_eq!(ghost.attempt, 1);
    let ghost_prefix = AssetKeys::new(ghost.asset_id).hls(ghost.attempt);
    api.ctx.store.put_bytes(&format!("{ghost_prefix}1080p/seg_00000.m4s"), vec![1; 100]).await.unwrap();
    api.ctx.store.put_bytes(&format!("{ghost_prefix}master.m3u8"), b"#EXTM3U\n".to_vec()).await.unwrap();

    // A second media process with a worker shares the same database and storage.
    let (worker, ready) = taken_over(&pool, &api, &asset, &ghost_prefix).await;

    // The ghost comes back to life: every write it tries is fenced off.
    assert!(!jobs::heartbeat(&pool, &ghost, 60).await.unwrap());
    let done = jobs::Finished {
        master_key: "x",
        poster_key: "x",
        storyboard_key: "x",
        rungs: &[],
        tracks: &Default::default(),
        download: None,
    };
    assert!(!jobs::complete(&pool, &ghost, &done).await.unwrap());
    assert!(!assets::mark_playable(&pool, &ghost, "x", &[], &Default::default()).await.unwrap());
    assert_eq!(worker.asset(&asset.id).await.master_playlist, ready.master_playlist, "nothing changed");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_worker_killed_mid_transcode_is_taken_over_after_its_lease_and_leaves_nothing_behind(pool: PgPool) {
    // A slow preset and short lease: the first worker is surely mid-transcode when killed.
    let first = spawn_app_with(pool.clone(), |s| {
        s.video.preset = "medium".into();
        s.worker.lease_secs = 2;
    })
    .await;
    let scratch = Scratch::new();
    let asset = first.upload(&landscape(&scratch.0, 12)).await.unwrap();
    let asset_id: uuid::Uuid = asset.id.parse().unwrap();
    let mut stream = first.events(&asset.job_id).await;
    // Playable before the encode is over: every rung has segments stored and the master is there.
    let playable = loop {
        let event = stream.message().await.unwrap().expect("the job runs");
        assert_ne!(event.phase, pb::Phase::Ready as i32, "the encode ended before it was killed");
        if event.playable {
            break event;
        }
    };
    assert_eq!(playable.phase, pb::Phase::Transcoding as i32);
    assert!(playable.percent < 100.0);
    let attempt_one = AssetKeys::new(asset_id).hls(1);
    assert!(first.ctx.store.head(&format!("{attempt_one}master.m3u8")).await.unwrap().is_some());
    let growing =
        String::from_utf8(first.ctx.store.get_bytes(&format!("{attempt_one}360p/index.m3u8")).await.unwrap()).unwrap();
    assert!(growing.contains("#EXT-X-PLAYLIST-TYPE:EVENT") && !growing.contains("#EXT-X-ENDLIST"), "{growing}");

    first.media.abort(); // the worker dies mid-transcode: no cleanup, no hand-back
    taken_over(&pool, &first, &asset, &attempt_one).await;
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_failed_attempt_withdraws_its_playlist_before_its_objects_go(pool: PgPool) {
    let (api, asset, _scratch) = queued(&pool, 2).await;
    let first = jobs::claim(&pool, "first", 60).await.unwrap().expect("the job is claimable");
    let master = format!("{}master.m3u8", AssetKeys::new(first.asset_id).hls(first.attempt));
    api.ctx.store.put_bytes(&master, b"#EXTM3U\n".to_vec()).await.unwrap();
    assert!(assets::mark_playable(&pool, &first, &master, &[], &Default::default()).await.unwrap());
    assert_eq!(api.asset(&asset.id).await.master_playlist, master);

    // Another attempt's withdrawal leaves this one's playlist alone.
    assets::withdraw(&pool, first.asset_id, first.attempt + 1).await.unwrap();
    assert_eq!(api.asset(&asset.id).await.master_playlist, master);

    // The attempt fails (its storage went away, say): no player is sent to its objects.
    ottr_media::pipeline::discard(&api.ctx, &first).await;
    assert_eq!(api.asset(&asset.id).await.master_playlist, "", "the withdrawn master is no longer offered");
    assert!(api.stored(&AssetKeys::new(first.asset_id).hls(first.attempt)).await.is_empty());
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_queued_job_can_be_cancelled_and_requeued(pool: PgPool) {
    let api = spawn_app_with(pool.clone(), |s| s.worker.enabled = false).await;
    let scratch = Scratch::new();
    let source = clip(&scratch.0, "c.mp4", "testsrc2=size=640x360:rate=25:duration=2", false, &["-pix_fmt", "yuv420p"]);
    let asset = api.upload(&source).await.unwrap();
    let job = pb::JobRequest { job_id: asset.job_id.clone() };

    let cancelled = api.client.clone().cancel_job(bearer(job.clone(), &api.editor)).await.unwrap().into_inner();
    assert_eq!(cancelled.phase, pb::Phase::Cancelled as i32);
    assert_eq!(api.asset(&asset.id).await.state, pb::AssetState::Cancelled as i32);
    let twice = api.client.clone().cancel_job(bearer(job.clone(), &api.editor)).await.unwrap_err();
    assert_eq!(code(&twice), "job_state_conflict");

    let requeued = api.client.clone().requeue_job(bearer(job.clone(), &api.editor)).await.unwrap().into_inner();
    assert_eq!(requeued.phase, pb::Phase::Queued as i32);
    let again = api.client.clone().requeue_job(bearer(job, &api.editor)).await.unwrap_err();
    assert_eq!(code(&again), "job_state_conflict", "a queued job is not requeued");

    let objects = api.objects.clone();
    let worker = spawn_app_with(pool, move |s| s.storage.local_root = objects).await;
    assert_eq!(worker.watch(&asset.job_id).await.last().unwrap().phase, pb::Phase::Ready as i32);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_running_job_that_is_cancelled_stops_and_leaves_no_objects(pool: PgPool) {
    let app = spawn_app_with(pool.clone(), |s| s.video.preset = "medium".into()).await;
    let scratch = Scratch::new();
    let asset = app.upload(&landscape(&scratch.0, 20)).await.unwrap();
    let mut stream = app.events(&asset.job_id).await;
    // Wait until ffmpeg is running, then cancel.
    while let Some(event) = stream.message().await.unwrap() {
        if event.phase == pb::Phase::Transcoding as i32 {
            break;
        }
    }
    app.client.clone().cancel_job(bearer(pb::JobRequest { job_id: asset.job_id.clone() }, &app.editor)).await.unwrap();
    let mut last = None;
    while let Some(event) = stream.message().await.unwrap() {
        last = Some(event);
    }
    assert_eq!(last.unwrap().phase, pb::Phase::Cancelled as i32);
    // The worker notices at its next heartbeat (1 s here) and removes what it stored.
    let asset_id: uuid::Uuid = asset.id.parse().unwrap();
    let mut left = app.stored(&AssetKeys::new(asset_id).hls_root()).await;
    for _ in 0..50 {
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        left = app.stored(&AssetKeys::new(asset_id).hls_root()).await;
    }
    assert!(left.is_empty(), "objects left after cancel: {left:?}");
    assert!(std::fs::read_dir(app.ctx.settings.work_dir.join("uploads")).map(|d| d.count()).unwrap_or(0) == 0);
}

/// Runs one job with `change`d worker settings and returns its last event.
async fn last_event_with(pool: PgPool, change: impl FnOnce(&mut ottr_media::MediaSettings)) -> pb::JobEvent {
    let app = spawn_app_with(pool, change).await;
    let scratch = Scratch::new();
    let asset = app.upload(&landscape(&scratch.0, 6)).await.unwrap();
    let last = app.watch(&asset.job_id).await.pop().unwrap();
    // The killed ffmpeg's attempt left nothing behind.
    let asset_id: uuid::Uuid = asset.id.parse().unwrap();
    assert!(app.stored(&AssetKeys::new(asset_id).hls_root()).await.is_empty());
    last
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn an_ffmpeg_that_stops_advancing_is_killed_by_the_watchdog(pool: PgPool) {
    // A zero-second watchdog: at its first look, ffmpeg has not advanced "recently enough".
    let last = last_event_with(pool, |s| {
        s.worker.watchdog_secs = 0;
        s.worker.max_attempts = 1;
    })
    .await;
    assert_eq!(last.phase, pb::Phase::Failed as i32);
    assert_eq!(last.error_code, "transcode_failed");
    assert!(last.error_message.contains("made no progress"), "{}", last.error_message);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_transcode_past_its_hard_cap_is_killed_and_retries_are_bounded(pool: PgPool) {
    let last = last_event_with(pool, |s| {
        s.worker.hard_cap_secs = 0;
        s.worker.max_attempts = 2;
        s.worker.retry_base_secs = 0;
    })
    .await;
    assert_eq!(last.phase, pb::Phase::Failed as i32);
    assert_eq!(last.attempt, 2, "retried once, then gave up");
    assert!(last.error_message.contains("cap"), "{}", last.error_message);
}
