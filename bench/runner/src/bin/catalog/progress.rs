//! bench/catalog's progress phases: what counting viewing analytics costs a progress write.
//! Two catalog services on one scratch database, one with analytics off
//! (`catalog.analytics.enabled = false`: RecordProgress records the position alone, as it
//! did before analytics, the baseline) and one with it on (the same statement also upserts
//! the day's figures). Each side has viewers of its own, so neither side's reports change
//! what the other's find. RecordProgress at a fixed rate, the two sides in turn, round after
//! round; each ratio is on over off p99 within a round. The views table starts with weeks of
//! history, as a service's would, so the upsert's index is not a toy.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use ottr_bench::{
    Run, env_or, fixed_rate,
    rounds::{Phases, Spread},
};
use ottr_proto::{
    auth::v1::auth_service_client::AuthServiceClient,
    catalog::v1::{CreateProfileRequest, RecordProgressRequest, library_service_client::LibraryServiceClient},
};
use ottr_runtime::{config::DatabaseSettings, db, token::Role};
use ottr_testkit::grpc::{bearer, login};
use serde_json::json;
use tonic::transport::Channel;

use crate::serve;

const CHANNELS: usize = 4;
/// Profiles per account: the catalog's limit, so fewer passwords are hashed.
const PROFILES_PER_ACCOUNT: usize = 5;
/// Reports one viewer sends for one title before moving to the next, 10 s of film apart.
const REPORTS_PER_TITLE: u64 = 360;
const FILM_SECS: f64 = 3600.0;

/// One side: its clients and its viewers (access token, profile id).
struct Side {
    clients: Arc<Vec<LibraryServiceClient<Channel>>>,
    viewers: Arc<Vec<(String, String)>>,
}

/// Starts a catalog with analytics on or off and signs in `accounts` viewers of its own.
async fn side(database: &DatabaseSettings, analytics: bool, accounts: usize) -> anyhow::Result<Side> {
    let settings = ottr_catalog::CatalogSettings {
        analytics: ottr_catalog::AnalyticsSettings { enabled: analytics },
        ..Default::default()
    };
    let services = serve::start(database, settings).await?;
    let pool = db::pool(database)?;
    let mut auth = AuthServiceClient::connect(services.auth_url.clone()).await?;
    let clients: Vec<_> = services.channels(CHANNELS).await?.into_iter().map(LibraryServiceClient::new).collect();
    let mut viewers = Vec::new();
    for a in 0..accounts {
        let email = format!("viewer-{a}-{}@bench.example.org", if analytics { "on" } else { "off" });
        ottr_auth::create_user(&pool, &email, "a bench passphrase", &[Role::Viewer]).await?;
        let token = login(&mut auth, &email, "a bench passphrase").await;
        for p in 0..PROFILES_PER_ACCOUNT {
            let request = CreateProfileRequest { name: format!("Viewer {p}"), ..Default::default() };
            let profile = clients[0].clone().create_profile(bearer(request, &token)).await?.into_inner();
            viewers.push((token.clone(), profile.id));
        }
    }
    Ok(Side { clients: Arc::new(clients), viewers: Arc::new(viewers) })
}

pub async fn run(database: &DatabaseSettings, duration: Duration, runs: usize) -> anyhow::Result<serde_json::Value> {
    let rate: u32 = env_or("BENCH_PROGRESS_RATE", 500);
    let titles: i64 = env_or("BENCH_PROGRESS_TITLES", 2000);
    let accounts: usize = env_or("BENCH_PROGRESS_ACCOUNTS", 40);
    let history_days: i32 = env_or("BENCH_PROGRESS_HISTORY_DAYS", 60);
    let pool = db::pool(database)?;
    eprintln!("progress: {rate} req/s for {} s per phase; seeding {titles} titles", duration.as_secs());
    sqlx::query(
        "INSERT INTO catalog.titles (id, kind, slug, title, synopsis, genres, visibility, published_at)
         SELECT gen_random_uuid(), 'movie', 'film-' || g, 'Film ' || g, 'A film', ARRAY['drama'], 'published', now()
         FROM generate_series(1, $1) g",
    )
    .bind(titles)
    .execute(&pool)
    .await?;
    let ids: Arc<Vec<String>> =
        Arc::new(sqlx::query_scalar("SELECT id::text FROM catalog.titles ORDER BY slug").fetch_all(&pool).await?);
    eprintln!("progress: signing in {} accounts of {PROFILES_PER_ACCOUNT} profiles per side", accounts);
    let (off, on) = (side(database, false, accounts).await?, side(database, true, accounts).await?);
    // Weeks of figures already counted: every profile, every past day, one title in 100.
    let history = sqlx::query(
        "INSERT INTO catalog.views (title_id, day, profile_id, item_id, plays, watch_secs, completed)
         SELECT t.id, current_date - d, p.id, t.id, 1, 600, false
         FROM catalog.profiles p
         CROSS JOIN generate_series(1, $1) d
         JOIN (SELECT id, row_number() OVER (ORDER BY slug) AS n FROM catalog.titles) t
           ON t.n % 100 = abs(hashtext(p.id::text || d::text)) % 100",
    )
    .bind(history_days)
    .execute(&pool)
    .await?
    .rows_affected();
    sqlx::query("ANALYZE catalog.views").execute(&pool).await?;
    eprintln!("progress: {history} rows of past figures in catalog.views");

    // Report `k` of viewer `v`: each viewer watches one title after another, 10 s of film
    // further each report. `base` carries the count on from phase to phase, so positions
    // keep moving forward as a player's do.
    let record = |side: &Side, base: u64| {
        let (clients, viewers, ids) = (side.clients.clone(), side.viewers.clone(), ids.clone());
        move |i: u64| {
            let i = base + i;
            let v = (i % viewers.len() as u64) as usize;
            let k = i / viewers.len() as u64;
            let title = ids[(v * 7 + (k / REPORTS_PER_TITLE) as usize) % ids.len()].clone();
            let (token, profile_id) = &viewers[v];
            let request = RecordProgressRequest {
                profile_id: profile_id.clone(),
                title_id: title,
                position_secs: (k % REPORTS_PER_TITLE) as f64 * 10.0,
                duration_secs: FILM_SECS,
                ..Default::default()
            };
            let request = bearer(request, token);
            let mut client = clients[i as usize % CHANNELS].clone();
            async move { client.record_progress(request).await.is_ok() }
        }
    };
    let per_phase = u64::from(rate) * duration.as_secs();
    let names = ["analytics off", "analytics on"];
    let mut phases: [Vec<Run>; 2] = Default::default();
    for round in 1..=runs {
        let base = (round as u64 - 1) * per_phase;
        for (i, side) in [&off, &on].into_iter().enumerate() {
            eprintln!("progress round {round}/{runs}, phase {}/2: RecordProgress, {}", i + 1, names[i]);
            phases[i].push(fixed_rate(rate, duration, record(side, base)).await);
        }
    }
    let counted: i64 = sqlx::query_scalar("SELECT count(*) FROM catalog.views WHERE day = current_date")
        .fetch_one(&pool)
        .await
        .context("counting today's figures")?;
    report(rate, duration, runs, titles, history, counted, &names, &phases)
}

#[allow(clippy::too_many_arguments)]
fn report(
    rate: u32,
    duration: Duration,
    runs: usize,
    titles: i64,
    history: u64,
    counted: i64,
    names: &[&str; 2],
    phases: &[Vec<Run>; 2],
) -> anyhow::Result<serde_json::Value> {
    let table = Phases { names, rounds: phases };
    let p = |phase: usize, q: f64| table.percentile(phase, q);
    let summary =
        table.print(&format!("RecordProgress at {rate} req/s, {titles} titles, median of {runs} rounds (min–max)"));
    let p99_ratio = Spread::ratio(&p(1, 99.0), &p(0, 99.0));
    let p50_ratio = Spread::ratio(&p(1, 50.0), &p(0, 50.0));
    println!("analytics on / off: p50 {p50_ratio}, p99 {p99_ratio}; {counted} figure rows counted today");
    let title = format!("Catalog: RecordProgress at {rate} req/s, analytics off and on, median of {runs}");
    summary.chart(&title, "catalog-progress", &["off", "on"])?;
    let figures = |i: usize| summary.figures(i);
    Ok(json!({
        "rate_rps": rate,
        "seconds_per_phase": duration.as_secs(),
        "runs": runs,
        "titles": titles,
        "past_figure_rows": history,
        "figure_rows_counted_today": counted,
        "order": "analytics off then on, round after round; figures are medians over the rounds",
        "analytics_off": figures(0),
        "analytics_on": figures(1),
        "p50_on_over_off": p50_ratio.json(),
        "p99_on_over_off": p99_ratio.json(),
        "rounds_p99_ms": names.iter().enumerate().map(|(i, name)| (name.to_string(), json!(p(i, 99.0)))).collect::<serde_json::Map<_, _>>(),
    }))
}
