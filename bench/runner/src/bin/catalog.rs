//! `bench/catalog`: GetTitle over gRPC at a fixed rate, for cache hits and for cache
//! misses, with a bare Redis GET at the same rate in the same run as the floor.
//! Writes `bench/results/catalog.json`.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use fred::interfaces::KeysInterface;
use ottr_bench::{Run, ScratchDatabase, fixed_rate, machine, results_path};
use ottr_proto::catalog::v1::{GetTitleRequest, catalog_service_client::CatalogServiceClient};
use ottr_runtime::{
    config::{DatabaseSettings, ListenSettings, RedisSettings, TokenSettings},
    db,
    redis::Redis,
    token::TokenVerifier,
};
use tonic::transport::Channel;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

const HOT_TITLES: usize = 100;
const CHANNELS: usize = 4;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rate: u32 = env("BENCH_RATE", 2000);
    let seconds: u64 = env("BENCH_SECONDS", 10);
    let duration = Duration::from_secs(seconds);
    let database = ScratchDatabase::create().await.context("creating a scratch database")?;
    eprintln!("bench/catalog: {rate} req/s for {seconds} s per phase; scratch database {}", database.name);
    let result = run(&database.settings, rate, duration).await;
    database.drop().await;
    let report = result?;
    let path = results_path("catalog.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")?;
    eprintln!("wrote {}", path.canonicalize()?.display());
    Ok(())
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
    let verifier = Arc::new(TokenVerifier::from_settings(&tokens)?);
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

    // Every miss reads a title nobody read before, so the miss phase needs one per request.
    let count = HOT_TITLES as i64 + i64::from(rate) * duration.as_secs() as i64;
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
    let (hot, cold) = (Arc::new(hot.to_vec()), Arc::new(cold.to_vec()));

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
            async move { client.get_title(GetTitleRequest { id_or_slug: id }).await.is_ok() }
        }
    };
    for i in 0..HOT_TITLES as u64 {
        anyhow::ensure!(get(hot.clone())(i).await, "warming the cache failed");
    }

    eprintln!("phase 1/3: bare Redis GET (the floor)");
    let floor_key = redis.key("bench:floor");
    redis.client.set::<(), _, _>(&floor_key, vec![0u8; 200], None, None, false).await?;
    let client = redis.client.clone();
    let floor = fixed_rate(rate, duration, move |_| {
        let (client, key) = (client.clone(), floor_key.clone());
        async move { client.get::<Option<Vec<u8>>, _>(key).await.is_ok() }
    })
    .await;

    eprintln!("phase 2/3: GetTitle, cache hits");
    let (hits_before, misses_before, _) = stats.snapshot();
    let hits = fixed_rate(rate, duration, get(hot.clone())).await;
    let (hits_after, _, _) = stats.snapshot();

    eprintln!("phase 3/3: GetTitle, cache misses");
    let misses = fixed_rate(rate, duration, get(cold.clone())).await;
    let (_, misses_after, cache_errors) = stats.snapshot();

    let figure = |run: &Run| (run.percentile(50.0), run.percentile(99.0));
    let (floor_p50, floor_p99) = figure(&floor);
    let (hit_p50, hit_p99) = figure(&hits);
    let (miss_p50, miss_p99) = figure(&misses);
    println!("{:<26} {:>10} {:>10} {:>8}", "at a fixed rate", "p50 ms", "p99 ms", "errors");
    println!("{:<26} {floor_p50:>10.3} {floor_p99:>10.3} {:>8}", "redis GET (floor)", floor.errors);
    println!("{:<26} {hit_p50:>10.3} {hit_p99:>10.3} {:>8}", "GetTitle, cache hit", hits.errors);
    println!("{:<26} {miss_p50:>10.3} {miss_p99:>10.3} {:>8}", "GetTitle, cache miss", misses.errors);
    println!("hit p99 / redis p99 = {:.2}x; miss p99 / hit p99 = {:.2}x", hit_p99 / floor_p99, miss_p99 / hit_p99);
    println!(
        "served from cache in the hit phase: {} of {}; misses counted in the miss phase: {}",
        hits_after - hits_before,
        hits.latencies_ms.len() + hits.errors as usize,
        misses_after - misses_before
    );

    let postgres: String = sqlx::query_scalar("SHOW server_version").fetch_one(&pool).await?;
    Ok(serde_json::json!({
        "rate_rps": rate,
        "seconds_per_phase": duration.as_secs(),
        "hit_p50_ms": hit_p50,
        "hit_p99_ms": hit_p99,
        "miss_p50_ms": miss_p50,
        "miss_p99_ms": miss_p99,
        "redis_get_p50_ms": floor_p50,
        "redis_get_p99_ms": floor_p99,
        "hit_p99_over_redis_p99": hit_p99 / floor_p99,
        "miss_p99_over_hit_p99": miss_p99 / hit_p99,
        "errors": floor.errors + hits.errors + misses.errors,
        "cache_errors": cache_errors,
        "machine": machine(),
        "versions": {
            "ottr": env!("CARGO_PKG_VERSION"),
            "postgres": postgres,
            "redis": ottr_bench::version_of("redis-server", &["--version"]),
        },
    }))
}
