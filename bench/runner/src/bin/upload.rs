//! Upload: a 2 GiB resumable (tus) upload through ottr's edge, whose PATCH bodies go
//! straight into S3 as multipart parts (the edge PUTs whole parts by URLs media presigns;
//! media records them, completes the object, probes it and queues it), against a raw S3 PUT of the same file to the same server (s3s-fs) from the AWS SDK
//! and against media's S3 store alone, in the same run. ottr's services run as processes
//! of their own so each one's peak memory (VmHWM) and the bytes each wrote to local disk
//! (`/proc/PID/io` write_bytes) can be read. The three take turns for `--runs N` rounds
//! (3); figures are medians with each ratio's range. Writes `bench/results/upload.json`
//! and `upload.svg`.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use anyhow::{Context, bail, ensure};
use aws_sdk_s3::{
    Client,
    config::{BehaviorVersion, Credentials, Region},
    primitives::ByteStream,
};
use ottr_bench::{
    ScratchDatabase,
    chart::{self, Panel},
    env_or, machine, machine_caption, results_path,
    rounds::{self, Spread},
    version_of,
};
use ottr_storage::{S3Settings, S3Store};
use ottr_testkit::{
    Clip,
    process::{Process, cpu_seconds, sibling},
};
use tokio::io::AsyncReadExt;

const ACCESS: &str = "bench";
const SECRET: &str = "bench-secret-key";
const EDITOR: (&str, &str) = ("editor@bench.test", "bench-pass-phrase");
const MIB: f64 = 1024.0 * 1024.0;

/// A valid video of about `bytes`: a short lossless 1080p clip looped without
/// re-encoding, so media's probe accepts it. Kept under target/ for the next run.
fn source_video(bytes: u64) -> anyhow::Result<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-cache");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("upload-{bytes}.mp4"));
    if path.is_file() {
        return Ok(path);
    }
    let clip = dir.join("upload-clip.mp4");
    let ffmpeg = |args: &[&str]| -> anyhow::Result<()> {
        let status = std::process::Command::new("ffmpeg").args(["-v", "error", "-y"]).args(args).status()?;
        ensure!(status.success(), "ffmpeg {args:?} failed");
        Ok(())
    };
    eprintln!("generating a {:.0} MiB source video (once)", bytes as f64 / MIB);
    // Lossless, so a few seconds make a big file quickly.
    Clip::testsrc("1920x1080", 30, 10).with_audio(true).args(["-qp", "0"]).make(&clip)?;
    let loops = (bytes / std::fs::metadata(&clip)?.len() + 1).to_string();
    let partial = dir.join("upload-partial.mp4");
    ffmpeg(&[
        "-stream_loop",
        &loops,
        "-i",
        clip.to_str().context("path")?,
        "-c",
        "copy",
        "-fs",
        &bytes.to_string(),
        partial.to_str().context("path")?,
    ])?;
    std::fs::rename(&partial, &path)?;
    Ok(path)
}

fn s3_client(endpoint: &str) -> Client {
    let config = aws_sdk_s3::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .credentials_provider(Credentials::new(ACCESS, SECRET, None, None, "bench"))
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .build();
    Client::from_conf(config)
}

/// The baseline: one PUT of the whole file, streamed from disk by the SDK.
async fn raw_put(client: &Client, path: &Path) -> anyhow::Result<f64> {
    let started = Instant::now();
    client.put_object().bucket("raw").key("source.mp4").body(ByteStream::from_path(path).await?).send().await?;
    Ok(started.elapsed().as_secs_f64())
}

/// A second baseline: media's S3 store alone putting the same file (multipart, 16 MiB
/// parts streamed four at a time), which is what storing a large object in parts costs on
/// this server, completion included.
async fn store_alone(endpoint: &str, path: &Path) -> anyhow::Result<f64> {
    let settings = S3Settings {
        endpoint: endpoint.into(),
        bucket: "raw".into(),
        access_key: ACCESS.into(),
        secret_key: SECRET.to_owned().into(),
        ..Default::default()
    };
    let store = S3Store::connect(&settings).await;
    let started = Instant::now();
    store.put_file("multipart.mp4", path).await?;
    Ok(started.elapsed().as_secs_f64())
}

/// What a tus upload took: until the last PATCH answered (the source stored, probed and
/// queued), and that last PATCH alone (its bytes, then the hand-off to media).
struct Tus {
    seconds: f64,
    last_patch_seconds: f64,
    asset: String,
}

/// `length` bytes of the file from `offset`, read from disk as the connection takes them
/// (as `ottr upload` and the raw PUT's SDK do), so reading the file does not add to the
/// upload's time.
fn streamed(path: &Path, offset: u64, length: u64) -> anyhow::Result<reqwest::Body> {
    use std::io::Seek;
    let mut file = std::fs::File::open(path)?;
    file.seek(std::io::SeekFrom::Start(offset))?;
    let part = tokio::fs::File::from_std(file).take(length);
    Ok(reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(part, 64 * 1024)))
}

/// tus 1.0 as a client does it: create, then PATCH `chunk` bytes at a time.
async fn tus_upload(http: &reqwest::Client, edge: &str, token: &str, path: &Path, chunk: usize) -> anyhow::Result<Tus> {
    let length = std::fs::metadata(path)?.len();
    let started = Instant::now();
    let created = http
        .post(format!("{edge}/api/v1/uploads"))
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", length)
        .header("Upload-Metadata", "filename YmVuY2gubXA0") // base64("bench.mp4")
        .send()
        .await?;
    ensure!(created.status() == 201, "creating the upload answered {}", created.status());
    let location = created.headers()["location"].to_str()?.to_owned();
    let mut offset = 0u64;
    let mut asset = None;
    let mut last_patch = 0.0;
    while offset < length {
        let sent = (chunk as u64).min(length - offset);
        let patch_started = Instant::now();
        let answer = http
            .patch(&location)
            .bearer_auth(token)
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Offset", offset)
            .header("Content-Type", "application/offset+octet-stream")
            .header("Content-Length", sent)
            .body(streamed(path, offset, sent)?)
            .send()
            .await?;
        if answer.status() != 204 {
            bail!("PATCH at {offset} answered {}: {}", answer.status(), answer.text().await.unwrap_or_default());
        }
        offset += sent;
        last_patch = patch_started.elapsed().as_secs_f64();
        asset = answer.headers().get("ottr-asset-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(Tus { seconds, last_patch_seconds: last_patch, asset: asset.context("the last PATCH named no asset")? })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let bytes: u64 = env_or("BENCH_UPLOAD_MIB", 2048u64) * 1024 * 1024;
    let chunk_mib: usize = env_or("BENCH_CHUNK_MIB", 64);
    let source = source_video(bytes)?;
    let bytes = std::fs::metadata(&source)?.len();

    let work = std::env::temp_dir().join(format!("ottr-bench-upload-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&work)?;
    let database = ScratchDatabase::create().await?;
    let outcome = run(&work, &database, &source, bytes, chunk_mib).await;
    database.drop().await;
    if std::env::var_os("BENCH_KEEP_WORK").is_some() {
        eprintln!("work kept in {}", work.display());
    } else {
        let _ = std::fs::remove_dir_all(&work);
    }
    let result = outcome?;
    let path = results_path("upload.json");
    std::fs::write(&path, serde_json::to_string_pretty(&result)? + "\n")?;
    println!("{}", serde_json::to_string_pretty(&result)?);
    eprintln!("wrote {}", path.display());
    Ok(())
}

async fn run(
    work: &Path,
    database: &ScratchDatabase,
    source: &Path,
    bytes: u64,
    chunk_mib: usize,
) -> anyhow::Result<serde_json::Value> {
    let ottr = sibling("ottr")?;
    let s3_dir = work.join("s3");
    std::fs::create_dir_all(s3_dir.join("ottr"))?;
    let s3_env = vec![("S3_ACCESS_KEY".to_owned(), ACCESS.to_owned()), ("S3_SECRET_KEY".to_owned(), SECRET.to_owned())];
    let start = |program: &Path, args: &[&str], env: &[(String, String)], name: &str| {
        Process::start(program, args, env, &work.join(format!("{name}.log")), Duration::from_secs(60))
    };
    let s3 = start(&sibling("s3-server")?, &[s3_dir.to_str().context("path")?, "0"], &s3_env, "s3")?;
    let endpoint = format!("http://127.0.0.1:{}", s3.port("s3")?);

    let mut env: Vec<(String, String)> = [
        ("OTTR__DATABASE__URL", database.settings.url().to_owned()),
        ("OTTR__REDIS__KEY_PREFIX", format!("{}:", database.name)),
        ("OTTR__EDGE__PLAYBACK__SECRET", "bench-upload-playback-secret-of-32-bytes".into()),
        ("OTTR__MEDIA__WORK_DIR", work.join("media-work").display().to_string()),
        ("OTTR__MEDIA__WORKER__ENABLED", "false".into()), // the upload is measured, not the transcode
        ("OTTR__MEDIA__STORAGE__BACKEND", "s3".into()),
        ("OTTR__MEDIA__STORAGE__S3__ENDPOINT", endpoint.clone()),
        ("OTTR__MEDIA__STORAGE__S3__BUCKET", "ottr".into()),
        ("OTTR__MEDIA__STORAGE__S3__ACCESS_KEY", ACCESS.into()),
        ("OTTR__MEDIA__STORAGE__S3__SECRET_KEY", SECRET.into()),
        ("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .chain(["AUTH", "CATALOG", "MEDIA", "EDGE"].map(|s| (format!("OTTR__{s}__LISTEN__PORT"), "0".to_owned())))
    .collect();
    let mut create = std::process::Command::new(&ottr)
        .args(["user", "create", "--email", EDITOR.0, "--role", "editor", "--password-stdin"])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()?;
    std::io::Write::write_all(&mut create.stdin.take().context("stdin")?, EDITOR.1.as_bytes())?;
    ensure!(create.wait()?.success(), "creating the editor failed");

    let auth = start(&ottr, &["serve", "auth"], &env, "auth")?;
    env.push(("OTTR__TOKENS__AUTH_URL".into(), format!("http://127.0.0.1:{}", auth.port("auth")?)));
    let catalog = start(&ottr, &["serve", "catalog"], &env, "catalog")?;
    let media = start(&ottr, &["serve", "media"], &env, "media")?;
    for (name, service) in [("auth", &auth), ("catalog", &catalog), ("media", &media)] {
        let url = format!("http://127.0.0.1:{}", service.port(name)?);
        env.push((format!("OTTR__EDGE__{}_URL", name.to_uppercase()), url));
    }
    let edge = start(&ottr, &["serve", "edge"], &env, "edge")?;
    let edge_url = format!("http://127.0.0.1:{}", edge.port("edge")?);

    let http = reqwest::Client::new();
    let login: serde_json::Value = http
        .post(format!("{edge_url}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": EDITOR.0, "password": EDITOR.1}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = login["access_token"].as_str().context("no access token")?.to_owned();

    // Each phase starts with nothing left to write back from the one before, so none pays
    // for another's dirty pages. The three take turns, round after round.
    let settle = || std::process::Command::new("sync").status().map(|_| ());
    let runs = rounds::runs();
    let (mut raw_s, mut store_s, mut ottr_s, mut last_patch_s) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut disk_per_byte = Vec::new();
    // Where each phase's CPU time goes, process by process: with two cores, what ottr's
    // hops cost shows here before it shows in the seconds.
    let pids = [("client", std::process::id()), ("s3", s3.id()), ("edge", edge.id()), ("media", media.id())];
    let cpu_now = || -> anyhow::Result<Vec<f64>> { pids.iter().map(|(_, pid)| cpu_seconds(*pid)).collect() };
    let mut cpu: [Vec<Vec<f64>>; 3] = Default::default();
    let mut measure_cpu = |phase: usize, before: Vec<f64>| -> anyhow::Result<()> {
        let after = cpu_now()?;
        cpu[phase].push(after.iter().zip(&before).map(|(a, b)| a - b).collect());
        Ok(())
    };
    // The source is read once first, so no phase pays for reading it from disk cold.
    std::io::copy(&mut std::fs::File::open(source)?, &mut std::io::sink())?;
    let api = s3_client(&endpoint);
    api.create_bucket().bucket("raw").send().await.context("creating the raw bucket")?;
    for round in 1..=runs {
        // The phases take turns at going first: on a virtual machine, memory the guest
        // freed is handed back to the host and touching it again costs (measured with
        // `perf`: a write into the page cache ran at 0.7 to 1.8 GB/s by what went before),
        // so a fixed order would charge one phase for where it stands.
        for phase in (0..3).map(|i| (i + round - 1) % 3) {
            settle()?;
            let before = cpu_now()?;
            match phase {
                0 => {
                    eprintln!("round {round}/{runs}: raw S3 PUT of {:.0} MiB to s3s-fs", bytes as f64 / MIB);
                    raw_s.push(raw_put(&api, source).await?);
                    measure_cpu(0, before)?;
                    let stored = api.head_object().bucket("raw").key("source.mp4").send().await?;
                    ensure!(stored.content_length() == Some(bytes as i64), "the raw PUT stored a different size");
                    api.delete_object().bucket("raw").key("source.mp4").send().await?;
                }
                1 => {
                    eprintln!("round {round}/{runs}: media's S3 store alone putting the same file (multipart)");
                    store_s.push(store_alone(&endpoint, source).await?);
                    measure_cpu(1, before)?;
                    let stored = api.head_object().bucket("raw").key("multipart.mp4").send().await?;
                    ensure!(stored.content_length() == Some(bytes as i64), "the store put a different size");
                    api.delete_object().bucket("raw").key("multipart.mp4").send().await?;
                }
                _ => {
                    eprintln!(
                        "round {round}/{runs}: tus upload of the same file through ottr's edge ({chunk_mib} MiB PATCHes)"
                    );
                    let written_before = edge.written_bytes()? + media.written_bytes()?;
                    let tus = tus_upload(&http, &edge_url, &token, source, chunk_mib * 1024 * 1024).await?;
                    measure_cpu(2, before)?;
                    settle()?; // write-back of anything the two left in the page cache counts
                    let written = edge.written_bytes()? + media.written_bytes()? - written_before;
                    disk_per_byte.push(written as f64 / bytes as f64);
                    let key = format!("sources/{}/source.mp4", tus.asset);
                    let stored = api.head_object().bucket("ottr").key(&key).send().await?;
                    ensure!(stored.content_length() == Some(bytes as i64), "ottr stored a different size at {key}");
                    // Each phase's copy goes, so the disk holds one at a time.
                    api.delete_object().bucket("ottr").key(key).send().await?;
                    ottr_s.push(tus.seconds);
                    last_patch_s.push(tus.last_patch_seconds);
                }
            }
        }
    }

    let (edge_rss, media_rss) = (edge.peak_rss_mib()?, media.peak_rss_mib()?);
    let cpu_json = |rounds: &[Vec<f64>]| -> serde_json::Value {
        let median = |i: usize| Spread::of(&rounds.iter().map(|r| r[i]).collect::<Vec<f64>>()).median;
        let by_process: serde_json::Map<String, serde_json::Value> =
            pids.iter().enumerate().map(|(i, (name, _))| ((*name).to_owned(), median(i).into())).collect();
        by_process.into()
    };
    let cpu_seconds = serde_json::json!({
        "raw_put": cpu_json(&cpu[0]),
        "store_alone": cpu_json(&cpu[1]),
        "ottr": cpu_json(&cpu[2]),
    });
    eprintln!("CPU seconds by process (median): {cpu_seconds}");
    let mib = bytes as f64 / MIB;
    let rate = |seconds: &[f64]| seconds.iter().map(|s| mib / s).collect::<Vec<f64>>();
    let (ottr_rates, raw_rates, store_rates) = (rate(&ottr_s), rate(&raw_s), rate(&store_s));
    let (ottr_mib_s, raw_put_mib_s, store_mib_s) =
        (Spread::of(&ottr_rates).median, Spread::of(&raw_rates).median, Spread::of(&store_rates).median);
    let over_raw = Spread::ratio(&ottr_rates, &raw_rates);
    let over_store = Spread::ratio(&ottr_rates, &store_rates);
    let (ottr_seconds, raw_seconds, store_seconds) =
        (Spread::of(&ottr_s).median, Spread::of(&raw_s).median, Spread::of(&store_s).median);
    let last_patch = Spread::of(&last_patch_s).median;
    let disk = Spread::of(&disk_per_byte);
    eprintln!("median of {runs} rounds (min–max)");
    eprintln!("last PATCH (its bytes, completing the object, probing it): {last_patch:.1} s of {ottr_seconds:.1} s");
    eprintln!("bytes edge + media wrote to local disk per uploaded byte: {:.4} (max {:.4})", disk.median, disk.max);
    eprintln!(
        "ottr {:.0} MiB/s, raw PUT {:.0} MiB/s, store alone {:.0} MiB/s: ottr/raw PUT = {over_raw}, \
         ottr/store alone = {over_store}; peak RSS edge {edge_rss:.0} MiB, media {media_rss:.0} MiB",
        Spread::of(&ottr_rates),
        Spread::of(&raw_rates),
        Spread::of(&store_rates),
    );
    let svg = chart::bar_chart(
        &format!("Upload of {mib:.0} MiB: tus through ottr vs raw S3 uploads to the same server (s3s-fs)"),
        &machine_caption(),
        &[
            Panel {
                title: "throughput",
                unit: "MiB/s",
                bars: vec![("ottr (tus)", ottr_mib_s), ("raw PUT", raw_put_mib_s), ("store alone", store_mib_s)],
            },
            Panel { title: "peak RSS", unit: "MiB", bars: vec![("edge", edge_rss), ("media", media_rss)] },
        ],
    );
    chart::write("upload", &svg)?;
    Ok(serde_json::json!({
        "bytes": bytes,
        "chunk_mib": chunk_mib,
        "ottr_seconds": ottr_seconds,
        "raw_put_seconds": raw_seconds,
        "last_patch_seconds": last_patch,
        "ottr_mib_s": ottr_mib_s,
        "raw_put_mib_s": raw_put_mib_s,
        "ottr_over_raw_put": over_raw.median,
        "ottr_over_raw_put_range": [over_raw.min, over_raw.max],
        "store_alone_seconds": store_seconds,
        "store_alone_mib_s": store_mib_s,
        "ottr_over_store_alone": over_store.median,
        "ottr_over_store_alone_range": [over_store.min, over_store.max],
        "runs": runs,
        "order": "raw PUT, store alone, tus through ottr, each round starting one phase later (each phase goes first once in three rounds), each after a sync and with the phase before's object deleted; figures are medians over the rounds",
        "rounds_seconds": { "ottr": ottr_s, "raw_put": raw_s, "store_alone": store_s },
        "cpu_seconds": cpu_seconds,
        "peak_rss_mib": edge_rss + media_rss,
        "local_disk_bytes_per_uploaded_byte": disk.median,
        "local_disk_bytes_per_uploaded_byte_max": disk.max,
        "edge_peak_rss_mib": edge_rss,
        "media_peak_rss_mib": media_rss,
        "notes": "ottr's time runs from the tus creation request to the answer of the last PATCH, by which media has completed the source's multipart upload in S3, probed the stored object and queued its job; peak_rss_mib is edge + media (VmHWM); local_disk_bytes_per_uploaded_byte is edge + media /proc/PID/io write_bytes over the tus upload, after a sync; cpu_seconds is each process's user + system time over each phase (client is this bench, which sends the bytes).",
        "machine": machine(),
        "versions": {
            "ottr": env!("CARGO_PKG_VERSION"),
            "s3_server": "s3s-fs 0.14.1, multipart completion by ottr-testkit (parts kept where they were uploaded and listed by a manifest, as MinIO does)",
            "ffmpeg": version_of("ffmpeg", &["-version"]),
            "rustc": version_of("rustc", &["--version"]),
        },
    }))
}
