//! Sources generated with lavfi go through upload, probe, the single ffmpeg ladder and
//! storage; ffprobe then reads what players would read.

use std::path::Path;

use ottr_media::transcode::playlist;
use ottr_proto::media::v1 as pb;
use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::{Scratch, TestApp, clip, landscape, spawn_app};

/// Uploads, waits for the end, and returns the ready asset.
async fn transcode(app: &TestApp, source: &Path) -> pb::Asset {
    let asset = app.upload(source).await.expect("the source is accepted");
    let events = app.watch(&asset.job_id).await;
    let last = events.last().expect("at least the snapshot");
    assert_eq!(last.phase, pb::Phase::Ready as i32, "ended with {last:?}");
    let asset = app.asset(&asset.id).await;
    assert_eq!(asset.state, pb::AssetState::Ready as i32);
    asset
}

/// An 8-bit clip of the lavfi `video`, with a tone when `audio`, transcoded; the ready asset.
async fn transcode_clip(app: &TestApp, scratch: &Scratch, name: &str, video: &str, audio: bool) -> pb::Asset {
    transcode(app, &clip(&scratch.0, name, video, audio, &["-pix_fmt", "yuv420p"])).await
}

fn ffprobe(path: &Path) -> Value {
    ottr_testkit::probe::show_streams(path).unwrap()
}

/// (width, height) of every video stream ffprobe finds through the master playlist, largest first.
fn video_sizes(probe: &Value) -> Vec<(u64, u64)> {
    let mut sizes = ottr_testkit::probe::video_sizes(probe);
    sizes.reverse();
    sizes
}

fn codecs(probe: &Value, kind: &str) -> Vec<String> {
    let mut found: Vec<String> = probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["codec_type"] == kind)
        .map(|s| s["codec_name"].as_str().unwrap().to_owned())
        .collect();
    found.dedup();
    found
}

fn master_path(app: &TestApp, asset: &pb::Asset) -> std::path::PathBuf {
    app.objects.join(&asset.master_playlist)
}

/// Segment durations of each rung, as its playlist lists them.
fn durations(app: &TestApp, asset: &pb::Asset) -> Vec<Vec<f64>> {
    let root = master_path(app, asset).parent().unwrap().to_owned();
    asset
        .renditions
        .iter()
        .map(|r| {
            let text = std::fs::read_to_string(root.join(&r.name).join("index.m3u8")).unwrap();
            assert!(text.contains("#EXT-X-PLAYLIST-TYPE:VOD") && text.contains("#EXT-X-ENDLIST"), "{text}");
            playlist::segments(&text).1.iter().map(|s| s.duration).collect()
        })
        .collect()
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_1080p_source_with_audio_becomes_the_four_rung_ladder_with_aligned_segments(pool: PgPool) {
    let app = spawn_app(pool).await;
    let scratch = Scratch::new();
    let asset = transcode(&app, &landscape(&scratch.0, 9)).await;

    let probe = ffprobe(&master_path(&app, &asset));
    assert_eq!(video_sizes(&probe), vec![(1920, 1080), (1280, 720), (854, 480), (640, 360)]);
    assert_eq!(codecs(&probe, "video"), vec!["h264"]);
    assert_eq!(codecs(&probe, "audio"), vec!["aac"]);
    let high = probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["codec_type"] == "video")
        .all(|s| s["profile"] == "High");
    assert!(high, "every rung is H.264 high profile");

    let master = std::fs::read_to_string(master_path(&app, &asset)).unwrap();
    assert!(master.contains("#EXT-X-INDEPENDENT-SEGMENTS"));
    for attribute in
        ["BANDWIDTH=", "AVERAGE-BANDWIDTH=", "RESOLUTION=1920x1080", "CODECS=\"avc1.", "mp4a.40.2", "FRAME-RATE=30.000"]
    {
        assert!(master.contains(attribute), "{attribute} missing from\n{master}");
    }

    let per_rung = durations(&app, &asset);
    assert_eq!(per_rung.len(), 4);
    assert!(per_rung.iter().all(|d| d == &per_rung[0]), "segment boundaries match across rungs: {per_rung:?}");
    let full = &per_rung[0][..per_rung[0].len() - 1];
    assert!(!full.is_empty() && full.iter().all(|d| (d - 4.0).abs() < 0.1), "4 s segments: {per_rung:?}");

    // The asset records what each rung and audio rendition takes in storage: every file of
    // its folder but the playlist.
    let root = master_path(&app, &asset).parent().unwrap().to_owned();
    let on_disk = |folder: &str| -> u64 {
        std::fs::read_dir(root.join(folder))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e != "m3u8"))
            .map(|p| p.metadata().unwrap().len())
            .sum()
    };
    for rung in &asset.renditions {
        assert_eq!(rung.bytes, on_disk(&rung.name), "{}", rung.name);
    }
    assert_eq!(asset.audio_tracks.len(), 1);
    assert_eq!(asset.audio_tracks[0].bytes, on_disk(&asset.audio_tracks[0].name));
    let total: u64 = asset.renditions.iter().map(|r| r.bytes).sum::<u64>() + asset.audio_tracks[0].bytes;
    assert_eq!(asset.ladder_bytes, total);
    let hours = asset.source.as_ref().unwrap().duration_secs / 3600.0;
    assert_eq!(asset.bytes_per_hour, (total as f64 / hours).round() as u64);

    // The storyboard is its WebVTT cues, pointing into the sprite sheet beside it.
    let cues = app.objects.join(&asset.storyboard);
    let sheet = cues.with_file_name("storyboard.jpg");
    for image in [app.objects.join(&asset.poster), sheet] {
        assert!(image.metadata().unwrap().len() > 0, "{}", image.display());
    }
    let vtt = std::fs::read_to_string(cues).unwrap();
    assert!(vtt.starts_with("WEBVTT") && vtt.contains("storyboard.jpg#xywh=0,0,160,90"), "{vtt}");
    let source = asset.source.unwrap();
    assert_eq!((source.width, source.height, source.audio_codec.as_str()), (1920, 1080, "aac"));

    // The download: the 720p rung and the audio, copied into one MP4 of the whole length.
    assert!(asset.download.starts_with(&format!("files/{}/", asset.id)) && asset.download.ends_with("/720p.mp4"));
    let download = app.objects.join(&asset.download);
    assert_eq!(download.metadata().unwrap().len(), asset.download_bytes);
    let probe = ffprobe(&download);
    assert_eq!(video_sizes(&probe), vec![(1280, 720)]);
    assert_eq!(codecs(&probe, "video"), vec!["h264"]);
    assert_eq!(codecs(&probe, "audio"), vec!["aac"]);
    let seconds: f64 = probe["streams"][0]["duration"].as_str().unwrap().parse().unwrap();
    assert!((seconds - 9.0).abs() < 0.5, "{seconds} s");
    let rung_720 = asset.renditions.iter().find(|r| r.name == "720p").unwrap();
    assert!(asset.download_bytes > rung_720.bytes, "the rung's own bytes and the audio's, not a second encode");
    assert!(asset.download_bytes < rung_720.bytes + asset.audio_tracks[0].bytes + 64 * 1024);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_long_title_opens_with_one_second_segments_and_its_peak_spans_a_target_duration(pool: PgPool) {
    let app = spawn_app(pool).await;
    let scratch = Scratch::new();
    // Long enough for opening segments, small enough to encode in moments.
    let source = clip(&scratch.0, "long.mp4", "testsrc2=size=320x180:rate=10:duration=62", false, &[]);
    let asset = transcode(&app, &source).await;
    let per_rung = durations(&app, &asset);
    let (opening, rest) = per_rung[0].split_at(4);
    assert!(opening.iter().all(|d| (d - 1.0).abs() < 0.05), "four 1 s segments first: {per_rung:?}");
    let full = &rest[..rest.len() - 1];
    assert!(full.iter().all(|d| (d - 4.0).abs() < 0.1), "then 4 s ones: {per_rung:?}");
    let master = std::fs::read_to_string(master_path(&app, &asset)).unwrap();
    let text = std::fs::read_to_string(master_path(&app, &asset).with_file_name("180p/index.m3u8")).unwrap();
    assert!(text.contains("#EXT-X-TARGETDURATION:4"), "{text}");
    // BANDWIDTH is the peak over runs of segments lasting 2 to 6 s (RFC 8216), at least
    // the average, and what the stored segments say.
    let attribute = |name: &str| -> u64 {
        let at = master.find(&format!(",{name}=")).or_else(|| master.find(&format!(":{name}="))).unwrap();
        master[at + name.len() + 2..].split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
    };
    let (peak, average) = (attribute("BANDWIDTH"), attribute("AVERAGE-BANDWIDTH"));
    assert!(peak >= average && average > 0, "{master}");
    // The same figures from the stored segments' sizes and the playlist's durations.
    let folder = master_path(&app, &asset).with_file_name("180p");
    let stored: Vec<(u64, f64)> = playlist::segments(&text)
        .1
        .iter()
        .map(|s| (folder.join(&s.uri).metadata().unwrap().len(), s.duration))
        .collect();
    assert_eq!(playlist::bandwidths(&stored), (peak, average));
    let rung = &asset.renditions[0];
    let seconds: f64 = per_rung[0].iter().sum();
    let from_bytes = rung.bytes as f64 * 8.0 / seconds;
    assert!((average as f64) <= from_bytes * 1.01 && (average as f64) > from_bytes * 0.8, "{average} vs {from_bytes}");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_720p_source_gets_three_rungs_never_an_upscale(pool: PgPool) {
    let app = spawn_app(pool).await;
    let scratch = Scratch::new();
    let asset = transcode_clip(&app, &scratch, "hd.mp4", "testsrc2=size=1280x720:rate=25:duration=3", true).await;
    assert_eq!(video_sizes(&ffprobe(&master_path(&app, &asset))), vec![(1280, 720), (854, 480), (640, 360)]);
    let names: Vec<_> = asset.renditions.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, vec!["720p", "480p", "360p"]);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn portrait_video_without_audio_keeps_its_shape_and_plays_silent(pool: PgPool) {
    let app = spawn_app(pool).await;
    let scratch = Scratch::new();
    let asset = transcode_clip(&app, &scratch, "phone.mp4", "testsrc2=size=720x1280:rate=30:duration=3", false).await;
    let probe = ffprobe(&master_path(&app, &asset));
    assert_eq!(video_sizes(&probe), vec![(720, 1280), (480, 854), (360, 640)]);
    assert!(codecs(&probe, "audio").is_empty());
    let master = std::fs::read_to_string(master_path(&app, &asset)).unwrap();
    assert!(!master.contains("mp4a"), "no audio codec is announced: {master}");
    // Its download is the picture alone, portrait still, at the highest rung within 720 lines.
    let probe = ffprobe(&app.objects.join(&asset.download));
    assert_eq!(video_sizes(&probe), vec![(720, 1280)]);
    assert!(codecs(&probe, "audio").is_empty());
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn odd_dimensions_become_even_and_a_rotated_phone_clip_comes_out_upright(pool: PgPool) {
    let app = spawn_app(pool).await;
    let scratch = Scratch::new();
    let odd = clip(
        &scratch.0,
        "odd.mkv",
        "testsrc2=size=640x360:rate=24:duration=3",
        true,
        &["-vf", "scale=641:359", "-pix_fmt", "yuv444p"],
    );
    let asset = transcode(&app, &odd).await;
    let probe = ffprobe(&master_path(&app, &asset));
    assert_eq!(video_sizes(&probe), vec![(640, 358)]);
    let pix: Vec<_> = probe["streams"].as_array().unwrap().iter().filter_map(|s| s["pix_fmt"].as_str()).collect();
    assert!(pix.iter().all(|p| *p == "yuv420p"), "players need 4:2:0: {pix:?}");

    let landscape =
        clip(&scratch.0, "sideways.mp4", "testsrc2=size=1280x720:rate=30:duration=3", false, &["-pix_fmt", "yuv420p"]);
    let rotated = scratch.0.join("rotated.mp4");
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&landscape)
        .args(["-c", "copy", "-metadata:s:v:0", "rotate=90"])
        .arg(&rotated)
        .status()
        .unwrap();
    assert!(status.success());
    let asset = transcode(&app, &rotated).await;
    assert_eq!(asset.source.as_ref().unwrap().rotation, 90);
    assert_eq!(video_sizes(&ffprobe(&master_path(&app, &asset))), vec![(720, 1280), (480, 854), (360, 640)]);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn two_watchers_see_monotonic_progress_that_ends_ready(pool: PgPool) {
    let app = spawn_app(pool).await;
    let scratch = Scratch::new();
    let asset = app.upload(&landscape(&scratch.0, 6)).await.unwrap();
    let (first, second) = tokio::join!(app.watch(&asset.job_id), app.watch(&asset.job_id));
    for events in [first, second] {
        let phases: Vec<i32> = events.iter().map(|e| e.phase).collect();
        assert_eq!(*phases.last().unwrap(), pb::Phase::Ready as i32);
        assert!(events.windows(2).all(|w| w[0].sequence < w[1].sequence), "sequence rises");
        let percents: Vec<f64> =
            events.iter().filter(|e| e.phase == pb::Phase::Transcoding as i32).map(|e| e.percent).collect();
        assert!(percents.windows(2).all(|w| w[0] <= w[1]), "percent never goes back: {percents:?}");
        assert!(percents.iter().any(|p| *p > 0.0 && *p < 100.0), "progress is reported while encoding: {percents:?}");
        let last = events.last().unwrap();
        assert_eq!(last.percent, 100.0);
        assert!(last.playable);
        assert_eq!(last.renditions.len(), 4);
        assert!(last.renditions.iter().all(|r| r.state == "done" && r.segments_stored >= 1), "{:?}", last.renditions);
    }
}
