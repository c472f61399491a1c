//! What viewers get beyond the picture ladder, checked with ffprobe and ffmpeg on real
//! outputs: one audio encode per language in a shared group, loudness at the target,
//! subtitles from the source and from an uploaded file, HDR tone-mapped, interlaced
//! sources deinterlaced, and a top rung at a between-boxes source's own size.

use std::path::{Path, PathBuf};

use ottr_media::transcode::{loudness, picture};
use ottr_proto::media::v1 as pb;
use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::{Scratch, TestApp, bearer, clip, code, spawn_app, spawn_app_with};

/// Runs ffmpeg with `args` and returns the output path (the last argument).
fn ffmpeg(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let status =
        std::process::Command::new("ffmpeg").args(["-v", "error", "-y"]).args(args).arg(&out).status().unwrap();
    assert!(status.success(), "ffmpeg could not make {name}");
    out
}

/// H.264 in 8-bit 4:2:0 and AAC, encoded quickly: how the sources with sound are made.
const H264_AAC: [&str; 8] = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"];

async fn ready(app: &TestApp, source: &Path) -> pb::Asset {
    let asset = app.upload(source).await.expect("the source is accepted");
    let events = app.watch(&asset.job_id).await;
    assert_eq!(events.last().unwrap().phase, pb::Phase::Ready as i32, "ended with {:?}", events.last());
    app.asset(&asset.id).await
}

/// A silent 8-bit clip of the lavfi `video`, transcoded; the ready asset.
async fn ready_clip(app: &TestApp, scratch: &Scratch, name: &str, video: &str) -> pb::Asset {
    ready(app, &clip(&scratch.0, name, video, false, &["-pix_fmt", "yuv420p"])).await
}

fn folder(app: &TestApp, asset: &pb::Asset) -> PathBuf {
    app.objects.join(&asset.master_playlist).parent().unwrap().to_owned()
}

fn master(app: &TestApp, asset: &pb::Asset) -> String {
    std::fs::read_to_string(app.objects.join(&asset.master_playlist)).unwrap()
}

/// One rendition's init and media segments joined into one fragmented MP4, as a player
/// would read them in order.
fn joined(dir: &Path, into: &Path) -> PathBuf {
    let playlist = std::fs::read_to_string(dir.join("index.m3u8")).unwrap();
    let (init, segments) = ottr_media::transcode::playlist::segments(&playlist);
    let mut bytes = std::fs::read(dir.join(init.expect("an init segment"))).unwrap();
    for segment in segments {
        bytes.extend(std::fs::read(dir.join(segment.uri)).unwrap());
    }
    std::fs::write(into, bytes).unwrap();
    into.to_owned()
}

fn streams(path: &Path) -> Vec<Value> {
    ottr_testkit::probe::show_streams(path).unwrap()["streams"].as_array().unwrap().clone()
}

/// Integrated loudness of a file's first audio stream, measured here by ffmpeg's own scanner.
async fn lufs(path: &Path) -> f64 {
    let found = loudness::measure(&[path], &[("0:a:0".into(), "stereo")], loudness::Peak::True, 1 << 24).await.unwrap();
    found[0].expect("the scanner reports").integrated_lufs
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn two_languages_are_one_audio_group_encoded_once_each_and_text_subtitles_reach_the_master(pool: PgPool) {
    let app = spawn_app(pool).await;
    let scratch = Scratch::new();
    let dir = &scratch.0;
    std::fs::write(dir.join("en.srt"), "1\n00:00:00,500 --> 00:00:02,000\nHello <font color=red>there</font>\n")
        .unwrap();
    std::fs::write(dir.join("fr.srt"), "1\n00:00:00,500 --> 00:00:02,000\nBonjour\n").unwrap();
    let (en, fr) = (dir.join("en.srt"), dir.join("fr.srt"));
    let (en, fr) = (en.to_string_lossy(), fr.to_string_lossy());
    let inputs = [
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=25:duration=5",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000:duration=5",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=660:sample_rate=48000:duration=5",
        "-i",
        &en,
        "-i",
        &fr,
        "-map",
        "0",
        "-map",
        "1",
        "-map",
        "2",
        "-map",
        "3",
        "-map",
        "4",
    ];
    let outputs = [
        "-ac:a:0",
        "6",
        "-c:s",
        "srt",
        "-metadata:s:a:0",
        "language=eng",
        "-metadata:s:a:1",
        "language=fra",
        "-metadata:s:a:1",
        "title=Version française",
        "-metadata:s:s:0",
        "language=eng",
        "-metadata:s:s:1",
        "language=fra",
        "-disposition:s:1",
        "forced",
    ];
    let source = ffmpeg(dir, "film.mkv", &[&inputs[..], &H264_AAC, &outputs].concat());
    let asset = ready(&app, &source).await;
    let text = master(&app, &asset);

    let audio: Vec<&str> = text.lines().filter(|l| l.starts_with("#EXT-X-MEDIA:TYPE=AUDIO")).collect();
    assert_eq!(audio.len(), 2, "{text}");
    assert!(
        audio[0].contains("LANGUAGE=\"en\"")
            && audio[0].contains("NAME=\"English\"")
            && audio[0].contains("CHANNELS=\"2\""),
        "5.1 is downmixed: {text}"
    );
    assert!(audio[1].contains("LANGUAGE=\"fr\"") && audio[1].contains("NAME=\"Version française\""), "{text}");
    assert_eq!(audio.iter().filter(|l| l.contains("DEFAULT=YES")).count(), 1, "{text}");
    let variants: Vec<&str> = text.lines().filter(|l| l.starts_with("#EXT-X-STREAM-INF")).collect();
    assert!(
        !variants.is_empty()
            && variants
                .iter()
                .all(|v| v.contains("AUDIO=\"audio\"") && v.contains("mp4a.40.2") && v.contains("SUBTITLES=\"subs\"")),
        "{text}"
    );

    // One encode per language: the rungs carry video only, each language its own folder.
    let root = folder(&app, &asset);
    for rendition in &asset.renditions {
        let kinds: Vec<String> = streams(&joined(&root.join(&rendition.name), &scratch.0.join("rung.mp4")))
            .iter()
            .map(|s| s["codec_type"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(kinds, vec!["video"], "{}", rendition.name);
    }
    for name in ["audio_0", "audio_1"] {
        let found = streams(&joined(&root.join(name), &scratch.0.join("audio.mp4")));
        assert_eq!(
            (found.len(), found[0]["codec_name"].as_str(), found[0]["channels"].as_u64()),
            (1, Some("aac"), Some(2)),
            "{name}"
        );
    }
    let names: Vec<_> = asset.audio_tracks.iter().map(|a| (a.language.as_str(), a.default)).collect();
    assert_eq!(names, vec![("en", true), ("fr", false)]);

    let subs: Vec<&str> = text.lines().filter(|l| l.starts_with("#EXT-X-MEDIA:TYPE=SUBTITLES")).collect();
    assert_eq!(subs.len(), 2, "{text}");
    assert!(subs[1].contains("LANGUAGE=\"fr\"") && subs[1].contains("FORCED=YES"), "{text}");
    let vtt = std::fs::read_to_string(root.join("subs_s0").join("subtitles.vtt")).unwrap();
    assert!(vtt.starts_with("WEBVTT") && vtt.contains("Hello there") && !vtt.contains("font"), "{vtt}");
    // Cue times follow the source's timeline as the ladder does (ffmpeg moves both by
    // the container's start time, here the audio's priming: a few tens of ms).
    let cue = &ottr_media::subtitles::parse(vtt.as_bytes()).unwrap()[0];
    assert!((500..=560).contains(&cue.start_ms) && cue.end_ms - cue.start_ms == 1500, "{vtt}");
    let kinds: Vec<_> = asset.subtitle_tracks.iter().map(|s| (s.id.as_str(), s.origin.as_str(), s.forced)).collect();
    assert_eq!(kinds, vec![("s0", "source", false), ("s1", "source", true)]);
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn quiet_and_loud_sources_both_come_out_at_the_target_loudness(pool: PgPool) {
    let app = spawn_app(pool).await;
    let scratch = Scratch::new();
    for (name, gain) in [("quiet.mp4", "-24dB"), ("loud.mp4", "14dB")] {
        let tone = format!("sine=frequency=440:sample_rate=48000:duration=8,volume={gain}");
        let inputs = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=8", "-f", "lavfi", "-i", &tone];
        let source = ffmpeg(&scratch.0, name, &[&inputs[..], &H264_AAC, &["-b:a", "192k"]].concat());
        let before = lufs(&source).await;
        let asset = ready(&app, &source).await;
        let track = &asset.audio_tracks[0];
        let (measured, result) = (track.measured.unwrap(), track.result.unwrap());
        assert!((measured.integrated_lufs - before).abs() < 0.5, "{name}: recorded {measured:?}, source {before}");
        let out = lufs(&joined(&folder(&app, &asset).join(&track.name), &scratch.0.join("out.mp4"))).await;
        assert!((out + 16.0).abs() <= 1.0, "{name}: {before} LUFS came out at {out}, not -16 ± 1");
        assert!((result.integrated_lufs - out).abs() < 0.5, "{name}: the asset records what came out");
        let peak = result.true_peak_dbtp.expect("the output's true peak is measured");
        assert!(peak <= -1.0, "{name}: true peak {peak}");
        assert!(measured.sample_peak_dbfs.is_some(), "{name}: the source's peak is recorded");
        assert!((before + 16.0).abs() > 5.0, "{name} was far from the target to begin with ({before})");
    }
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_pq_bt2020_source_comes_out_bt709_8_bit_and_an_interlaced_one_progressive(pool: PgPool) {
    let app = spawn_app(pool).await;
    let scratch = Scratch::new();
    let hdr = ffmpeg(
        &scratch.0,
        "hdr.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=25:duration=3",
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p10le",
            "-x265-params",
            "colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc:log-level=error",
            "-color_primaries",
            "bt2020",
            "-color_trc",
            "smpte2084",
            "-colorspace",
            "bt2020nc",
            "-tag:v",
            "hvc1",
        ],
    );
    let asset = ready(&app, &hdr).await;
    assert_eq!(asset.tone_mapped_from, "pq");
    let rung = joined(&folder(&app, &asset).join(&asset.renditions[0].name), &scratch.0.join("sdr.mp4"));
    let video = &streams(&rung)[0];
    for (field, want) in
        [("pix_fmt", "yuv420p"), ("color_primaries", "bt709"), ("color_transfer", "bt709"), ("color_space", "bt709")]
    {
        assert_eq!(video[field].as_str(), Some(want), "{field}: {video}");
    }

    let interlaced = ffmpeg(
        &scratch.0,
        "pal.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=720x576:rate=50:duration=4",
            "-vf",
            "tinterlace=interleave_top,fieldorder=tff",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-flags",
            "+ildct+ilme",
            "-x264opts",
            "tff=1",
            "-field_order",
            "tt",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    let idet = |path: &Path| {
        let out = std::process::Command::new("ffmpeg")
            .args(["-hide_banner", "-nostdin", "-nostats", "-i"])
            .arg(path)
            .args(["-map", "0:v:0", "-vf", "idet", "-f", "null", "-"])
            .output()
            .unwrap();
        picture::idet_verdict(&String::from_utf8_lossy(&out.stderr))
    };
    assert!(idet(&interlaced), "the fixture is combed");
    let asset = ready(&app, &interlaced).await;
    assert!(asset.deinterlaced);
    let top = joined(&folder(&app, &asset).join(&asset.renditions[0].name), &scratch.0.join("top.mp4"));
    assert!(!idet(&top), "no combing is left in the top rung");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn a_source_between_two_rung_sizes_keeps_a_top_rung_at_its_own_size(pool: PgPool) {
    let app = spawn_app(pool).await;
    let scratch = Scratch::new();
    let asset = ready_clip(&app, &scratch, "odd.mp4", "testsrc2=size=1918x1078:rate=25:duration=2").await;
    let sizes: Vec<_> = asset.renditions.iter().map(|r| (r.width, r.height)).collect();
    assert_eq!(sizes, vec![(1918, 1078), (1280, 720), (854, 480), (640, 360)]);
    let top = joined(&folder(&app, &asset).join(&asset.renditions[0].name), &scratch.0.join("top.mp4"));
    let video = &streams(&top)[0];
    assert_eq!((video["width"].as_u64(), video["height"].as_u64()), (Some(1918), Some(1078)));
    assert!(master(&app, &asset).contains("RESOLUTION=1918x1078"));
}

fn put(asset: &str, track: &str, language: &str, content: &str, token: &str) -> tonic::Request<pb::PutSubtitleRequest> {
    bearer(
        pb::PutSubtitleRequest {
            asset_id: asset.into(),
            track_id: track.into(),
            language: language.into(),
            label: String::new(),
            kind: "captions".into(),
            forced: false,
            content: content.as_bytes().to_vec(),
        },
        token,
    )
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn an_uploaded_srt_is_added_replaced_and_removed_without_touching_the_video(pool: PgPool) {
    let app = spawn_app(pool).await;
    let scratch = Scratch::new();
    let asset = ready_clip(&app, &scratch, "plain.mp4", "testsrc2=size=320x240:rate=25:duration=2").await;
    let before = master(&app, &asset);
    let mut client = app.client.clone();

    let srt = "1\n00:00:00,000 --> 00:00:01,500\n<script>x</script>[door slams]\n";
    let added = client.put_subtitle(put(&asset.id, "", "de", srt, &app.editor)).await.unwrap().into_inner();
    let track = &added.subtitle_tracks[0];
    assert_eq!(
        (track.language.as_str(), track.label.as_str(), track.kind.as_str(), track.origin.as_str()),
        ("de", "Deutsch", "captions", "upload")
    );
    let after = master(&app, &added);
    assert!(after.contains("TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"Deutsch\",LANGUAGE=\"de\""), "{after}");
    assert!(after.contains("CHARACTERISTICS=\"public.accessibility.transcribes-spoken-dialog"), "{after}");
    let video_lines = |text: &str| {
        text.lines()
            .filter(|l| !l.contains("TYPE=SUBTITLES"))
            .map(|l| l.replace(",SUBTITLES=\"subs\"", ""))
            .collect::<Vec<_>>()
    };
    assert_eq!(video_lines(&after), video_lines(&before), "only the subtitle lines changed");
    let first_folder = after
        .lines()
        .find(|l| l.contains("TYPE=SUBTITLES"))
        .unwrap()
        .rsplit("URI=\"")
        .next()
        .unwrap()
        .trim_end_matches('"')
        .to_owned();
    let vtt = std::fs::read_to_string(folder(&app, &added).join(first_folder.replace("/index.m3u8", "/subtitles.vtt")))
        .unwrap();
    assert!(vtt.contains("[door slams]") && !vtt.contains("script"), "{vtt}");

    let replaced = client
        .put_subtitle(put(&asset.id, &track.id, "de", "WEBVTT\n\n00:00.000 --> 00:01.000\nneu\n", &app.editor))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(replaced.subtitle_tracks.len(), 1);
    assert_eq!(replaced.subtitle_tracks[0].id, track.id, "a replaced track keeps its id");
    let newer = master(&app, &replaced);
    assert!(!newer.contains(&first_folder), "the master names the new file");
    assert!(folder(&app, &added).join(&first_folder).exists(), "a player holding the old master still finds its file");

    let bad = client
        .put_subtitle(put(
            &asset.id,
            "",
            "fr",
            "1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\nnot a time\nx\n",
            &app.editor,
        ))
        .await
        .unwrap_err();
    assert_eq!(code(&bad), "invalid_subtitles");
    assert!(bad.message().contains("line 5"), "{}", bad.message());
    let denied = client.put_subtitle(put(&asset.id, "", "fr", srt, &app.viewer)).await.unwrap_err();
    assert_eq!(code(&denied), "permission_denied");

    let removed = client
        .remove_subtitle(bearer(
            pb::RemoveSubtitleRequest { asset_id: asset.id.clone(), track_id: track.id.clone() },
            &app.editor,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(removed.subtitle_tracks.is_empty());
    assert_eq!(master(&app, &removed), before, "the master is as it was");
    let gone = client
        .remove_subtitle(bearer(
            pb::RemoveSubtitleRequest { asset_id: asset.id.clone(), track_id: track.id.clone() },
            &app.editor,
        ))
        .await
        .unwrap_err();
    assert_eq!(code(&gone), "not_found");
}

#[sqlx::test(migrator = "ottr_runtime::db::MIGRATOR")]
async fn tracks_wait_for_the_ladder_to_be_complete(pool: PgPool) {
    let app = spawn_app_with(pool, |settings| settings.worker.enabled = false).await;
    let scratch = Scratch::new();
    let source =
        clip(&scratch.0, "waiting.mp4", "testsrc2=size=320x240:rate=25:duration=1", false, &["-pix_fmt", "yuv420p"]);
    let asset = app.upload(&source).await.unwrap();
    let srt = "1\n00:00:00,000 --> 00:00:01,000\nearly\n";
    let refused = app.client.clone().put_subtitle(put(&asset.id, "", "en", srt, &app.editor)).await.unwrap_err();
    assert_eq!(code(&refused), "asset_not_ready");
}
