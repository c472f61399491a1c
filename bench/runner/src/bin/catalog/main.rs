//! `bench/catalog`: GetTitle at a fixed rate over gRPC (the catalog service itself) and
//! over REST (through the edge, which calls the catalog over gRPC), for cache hits and for
//! cache misses, with a bare Redis GET at the same rate in the same run as the floor.
//! The five phases take turns for `--runs N` rounds (3); figures are medians over the
//! rounds, ratios come with their range. Then SearchTitles, fuzzy search off and on, on a
//! catalog of its own ([`search`]); then RecordProgress with viewing analytics off and on
//! ([`progress`]). `BENCH_ONLY=get`, `search` or `progress` runs one part. Writes
//! `bench/results/catalog.json`, keeping the figures of a part that did not run.

mod corpus;
mod progress;
mod search;
mod serve;

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use fred::interfaces::KeysInterface;
use ottr_bench::{
    Run, ScratchDatabase,
    chart::Panel,
    env_or, fixed_rate, machine, machine_caption, merge_results,
    rounds::{self, Spread},
};
use ottr_proto::catalog::v1::{GetTitleRequest, catalog_service_client::CatalogServiceClient};
use ottr_runtime::{
    config::{DatabaseSettings, ListenSettings, RedisSettings, TokenSettings},
    db,
    redis::Redis,
    token::{Revocations, TokenVerifier},
};
use tonic::transport::Channel;

const HOT_TITLES: usize = 100;
const CHANNELS: usize = 4;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rate: u32 = env_or("BENCH_RATE", 2000);
    let seconds: u64 = env_or("BENCH_SECONDS", 10);
    let duration = Duration::from_secs(seconds);
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let mut report = serde_json::Map::new();
    let runs_part = |part: &str| only.is_empty() || only == part;
    if runs_part("get") {
        let database = ScratchDatabase::create().await.context("creating a scratch database")?;
        eprintln!("bench/catalog: {rate} req/s for {seconds} s per phase; scratch database {}", database.name);
        let result = run(&database.settings, rate, duration).await;
        database.drop().await;
        if let serde_json::Value::Object(figures) = result? {
            report.extend(figures);
        }
    }
    if runs_part("search") {
        let database = ScratchDatabase::create().await.context("creating a scratch database")?;
        let result = search::run(&database.settings, duration, rounds::runs()).await;
        database.drop().await;
        report.insert("search".into(), result?);
    }
    if runs_part("progress") {
        let database = ScratchDatabase::create().await.context("creating a scratch database")?;
        let result = progress::run(&database.settings, duration, rounds::runs()).await;
        database.drop().await;
        report.insert("progress".into(), result?);
    }
    merge_results("catalog.json", report)
}

async fn run(database: &DatabaseSettings, rate: u32, duration: Duration) -> anyhow::Result<serde_json::Value> {
    let pool = db::pool(database)?;
    let redis_settings =
        RedisSettings { key_prefix: format!("ottr-bench:{}:", uuid::Uuid::new_v4()), ..Default::default() };
    let redis = Redis::connect(&redis_settings)?;

    let auth_settings = ottr_auth::AuthSettings { listen: ListenSettings::new("127.0.0.1", 0), ..Default::default() };
    let auth = ottr_auth::Application::build(
        &auth_settings,
        &TokenSettings::default(),
        ottr_auth::Dependencies { pool: pool.clone(), redis: redis.clone() },
    )
    .await?;
    let tokens = TokenSettings { auth_url: format!("http://127.0.0.1:{}", auth.port()), ..Default::default() };
    tokio::spawn(auth.run_until_stopped(std::future::pending()));
    let verifier = Arc::new(TokenVerifier::from_settings(&tokens, Revocations::new(redis.clone()))?);
    let catalog_settings =
        ottr_catalog::CatalogSettings { listen: ListenSettings::new("127.0.0.1", 0), ..Default::default() };
    let catalog = ottr_catalog::Application::build(
        &catalog_settings,
        ottr_catalog::Dependencies { pool: pool.clone(), redis: redis.clone(), verifier },
    )
    .await?;
    let stats = catalog.cache_stats();
    let url = format!("http://127.0.0.1:{}", catalog.port());
    tokio::spawn(catalog.run_until_stopped(std::future::pending()));
    let mut edge_settings = ottr_edge::EdgeSettings {
        listen: ListenSettings::new("127.0.0.1", 0),
        auth_url: tokens.auth_url.clone(),
        catalog_url: url.clone(),
        ..Default::default()
    };
    // The edge refuses to start without a playback secret; nothing here is played.
    edge_settings.playback.secret = ottr_edge::config::PlaybackSettings::generate_secret();
    let objects = std::env::temp_dir().join(format!("ottr-bench-{}", uuid::Uuid::new_v4().simple()));
    let store = ottr_storage::ObjectStore::Local(ottr_storage::LocalStore::new(&objects));
    let verifier = Arc::new(TokenVerifier::from_settings(&tokens, Revocations::new(redis.clone()))?);
    let edge = ottr_edge::Application::build(&edge_settings, ottr_edge::Dependencies { store, verifier }).await?;
    let rest_url = format!("http://127.0.0.1:{}/api/v1/titles/", edge.port());
    tokio::spawn(edge.run_until_stopped(std::future::pending()));

    // Every miss reads a title nobody read before, so each miss phase of each round needs
    // one per request.
    let runs = rounds::runs();
    let per_phase = u64::from(rate) * duration.as_secs();
    let count = HOT_TITLES as i64 + (2 * per_phase * runs as u64) as i64;
    eprintln!("seeding {count} published titles");
    sqlx::query(
        "INSERT INTO catalog.titles (id, kind, slug, title, synopsis, genres, visibility, published_at)
         SELECT gen_random_uuid(), 'movie', 'bench-' || g, 'Bench title ' || g, 'A synopsis for title ' || g,
                ARRAY['drama'], 'published', now()
         FROM generate_series(1, $1) g",
    )
    .bind(count)
    .execute(&pool)
    .await?;
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id::text FROM catalog.titles ORDER BY slug").fetch_all(&pool).await?;
    let (hot, cold) = ids.split_at(HOT_TITLES);
    let hot = Arc::new(hot.to_vec());
    let mut cold = cold.chunks(per_phase as usize).map(|c| Arc::new(c.to_vec()));

    let mut channels = Vec::new();
    for _ in 0..CHANNELS {
        channels.push(CatalogServiceClient::new(Channel::from_shared(url.clone())?.connect().await?));
    }
    let channels = Arc::new(channels);
    let get = move |ids: Arc<Vec<String>>| {
        let channels = channels.clone();
        move |i: u64| {
            let mut client = channels[i as usize % CHANNELS].clone();
            let id = ids[i as usize % ids.len()].clone();
            async move { client.get_title(GetTitleRequest { id_or_slug: id, ..Default::default() }).await.is_ok() }
        }
    };
    // One HTTP/1.1 client with a pool, as a browser or an API gateway in front would use.
    let http = reqwest::Client::builder().pool_max_idle_per_host(256).build()?;
    let fetch = move |ids: Arc<Vec<String>>| {
        let (http, base) = (http.clone(), rest_url.clone());
        move |i: u64| {
            let request = http.get(format!("{base}{}", ids[i as usize % ids.len()])).send();
            async move { request.await.is_ok_and(|answer| answer.status().is_success()) }
        }
    };
    for i in 0..HOT_TITLES as u64 {
        anyhow::ensure!(get(hot.clone())(i).await, "warming the cache failed");
        anyhow::ensure!(fetch(hot.clone())(i).await, "GET /api/v1/titles/{{id}} through the edge failed");
    }

    let floor_key = redis.key("bench:floor");
    redis.client.set::<(), _, _>(&floor_key, vec![0u8; 200], None, None, false).await?;
    let mut phases: [Vec<Run>; 5] = Default::default();
    let (mut served_from_cache, mut counted_misses) = (0, 0);
    for round in 1..=runs {
        eprintln!("round {round}/{runs}, phase 1/5: bare Redis GET (the floor)");
        let (client, key) = (redis.client.clone(), floor_key.clone());
        let floor = fixed_rate(rate, duration, move |_| {
            let (client, key) = (client.clone(), key.clone());
            async move { client.get::<Option<Vec<u8>>, _>(key).await.is_ok() }
        })
        .await;
        eprintln!("round {round}/{runs}, phase 2/5: GetTitle over gRPC, cache hits");
        let (hits_before, misses_before, _) = stats.snapshot();
        let hits = fixed_rate(rate, duration, get(hot.clone())).await;
        let (hits_after, _, _) = stats.snapshot();
        eprintln!("round {round}/{runs}, phase 3/5: GetTitle over gRPC, cache misses");
        let misses = fixed_rate(rate, duration, get(cold.next().context("cold titles")?)).await;
        let (_, misses_after, _) = stats.snapshot();
        served_from_cache += hits_after - hits_before;
        counted_misses += misses_after - misses_before;
        eprintln!("round {round}/{runs}, phase 4/5: GET /api/v1/titles/{{id}} over REST, cache hits");
        let rest_hits = fixed_rate(rate, duration, fetch(hot.clone())).await;
        eprintln!("round {round}/{runs}, phase 5/5: GET /api/v1/titles/{{id}} over REST, cache misses");
        let rest_misses = fixed_rate(rate, duration, fetch(cold.next().context("cold titles")?)).await;
        for (phase, run) in phases.iter_mut().zip([floor, hits, misses, rest_hits, rest_misses]) {
            phase.push(run);
        }
    }
    let (_, _, cache_errors) = stats.snapshot();
    let _ = std::fs::remove_dir_all(&objects);

    let p = |phase: usize, q: f64| phases[phase].iter().map(|run| run.percentile(q)).collect::<Vec<f64>>();
    let names = [
        "redis GET (floor)",
        "gRPC GetTitle, cache hit",
        "gRPC GetTitle, cache miss",
        "REST GET title, cache hit",
        "REST GET title, cache miss",
    ];
    let p50: Vec<Spread> = (0..5).map(|i| Spread::of(&p(i, 50.0))).collect();
    let p99: Vec<Spread> = (0..5).map(|i| Spread::of(&p(i, 99.0))).collect();
    let errors: u64 = phases.iter().flatten().map(|run| run.errors).sum();
    println!("median of {runs} rounds (min–max)");
    println!("{:<30} {:>24} {:>24} {:>8}", "at a fixed rate", "p50 ms", "p99 ms", "errors");
    for (i, name) in names.iter().enumerate() {
        let phase_errors: u64 = phases[i].iter().map(|run| run.errors).sum();
        println!("{name:<30} {:>24} {:>24} {phase_errors:>8}", format!("{:.3}", p50[i]), format!("{:.3}", p99[i]));
    }
    let hit_over_floor = Spread::ratio(&p(1, 99.0), &p(0, 99.0));
    let miss_over_hit = Spread::ratio(&p(2, 99.0), &p(1, 99.0));
    let rest_over_grpc = Spread::ratio(&p(3, 99.0), &p(1, 99.0));
    println!(
        "gRPC hit p99 / redis p99 = {hit_over_floor}; gRPC miss p99 / hit p99 = {miss_over_hit}; REST hit p99 / gRPC hit p99 = {rest_over_grpc}"
    );
    let hit_requests: usize = phases[1].iter().map(|run| run.latencies_ms.len() + run.errors as usize).sum();
    println!(
        "served from cache in the gRPC hit phases: {served_from_cache} of {hit_requests}; misses counted in the gRPC miss phases: {counted_misses}"
    );
    let (floor_p50, hit_p50, miss_p50, rest_hit_p50, rest_miss_p50) =
        (p50[0].median, p50[1].median, p50[2].median, p50[3].median, p50[4].median);
    let (floor_p99, hit_p99, miss_p99, rest_hit_p99, rest_miss_p99) =
        (p99[0].median, p99[1].median, p99[2].median, p99[3].median, p99[4].median);
    let svg = ottr_bench::chart::bar_chart(
        &format!("Catalog: GetTitle at {rate} req/s, open loop, median of {runs}"),
        &machine_caption(),
        &[
            Panel {
                title: "p50",
                unit: "ms",
                bars: vec![
                    ("redis", floor_p50),
                    ("gRPC hit", hit_p50),
                    ("gRPC miss", miss_p50),
                    ("REST hit", rest_hit_p50),
                    ("REST miss", rest_miss_p50),
                ],
            },
            Panel {
                title: "p99",
                unit: "ms",
                bars: vec![
                    ("redis", floor_p99),
                    ("gRPC hit", hit_p99),
                    ("gRPC miss", miss_p99),
                    ("REST hit", rest_hit_p99),
                    ("REST miss", rest_miss_p99),
                ],
            },
        ],
    );
    ottr_bench::chart::write("catalog", &svg)?;

    let postgres: String = sqlx::query_scalar("SHOW server_version").fetch_one(&pool).await?;
    Ok(serde_json::json!({
        "rate_rps": rate,
        "seconds_per_phase": duration.as_secs(),
        "runs": runs,
        "order": "the five phases in turn, round after round; figures are medians over the rounds",
        "hit_p50_ms": hit_p50,
        "hit_p99_ms": hit_p99,
        "miss_p50_ms": miss_p50,
        "miss_p99_ms": miss_p99,
        "rest_hit_p50_ms": rest_hit_p50,
        "rest_hit_p99_ms": rest_hit_p99,
        "rest_miss_p50_ms": rest_miss_p50,
        "rest_miss_p99_ms": rest_miss_p99,
        "redis_get_p50_ms": floor_p50,
        "redis_get_p99_ms": floor_p99,
        "hit_p99_over_redis_p99": hit_over_floor.median,
        "hit_p99_over_redis_p99_range": [hit_over_floor.min, hit_over_floor.max],
        "miss_p99_over_hit_p99": miss_over_hit.median,
        "miss_p99_over_hit_p99_range": [miss_over_hit.min, miss_over_hit.max],
        "rest_hit_p99_over_grpc_hit_p99": rest_over_grpc.median,
        "rest_hit_p99_over_grpc_hit_p99_range": [rest_over_grpc.min, rest_over_grpc.max],
        "rounds_p99_ms": names.iter().enumerate().map(|(i, name)| (name.to_string(), serde_json::json!(p(i, 99.0)))).collect::<serde_json::Map<_, _>>(),
        "errors": errors,
        "cache_errors": cache_errors,
        "machine": machine(),
        "versions": {
            "ottr": env!("CARGO_PKG_VERSION"),
            "postgres": postgres,
            "redis": ottr_bench::version_of("redis-server", &["--version"]),
        },
    }))
}
