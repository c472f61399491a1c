//! bench/catalog's search phases: SearchTitles at a fixed rate on a catalog of 40,000 titles,
//! for queries as written and misspelt, against two catalog services on the same database:
//! one with fuzzy search off (`catalog.search.fuzzy = false`: the full-text search alone, as
//! it was before corrections, the baseline) and one with it on. The four phases take turns,
//! round after round, so a slow minute lands on both sides; each ratio is fuzzy over
//! full-text-only p99 within a round. Before the timed phases, every query runs once on both
//! services to count how often it finds the title it was made from.

use std::{sync::Arc, time::Duration};

use ottr_bench::{
    Run, env_or, fixed_rate,
    rounds::{Phases, Spread},
};
use ottr_proto::catalog::v1::{SearchTitlesRequest, catalog_service_client::CatalogServiceClient};
use ottr_runtime::{config::DatabaseSettings, db};
use serde_json::json;
use tonic::transport::Channel;

use crate::{corpus, serve};

const CHANNELS: usize = 4;
const QUERIES: i64 = 1000;

type Clients = Arc<Vec<CatalogServiceClient<Channel>>>;

/// Starts auth and a catalog with fuzzy search on or off on `database`; returns clients of the catalog.
async fn clients(database: &DatabaseSettings, fuzzy: bool) -> anyhow::Result<Clients> {
    let settings =
        ottr_catalog::CatalogSettings { search: ottr_catalog::SearchSettings { fuzzy }, ..Default::default() };
    let services = serve::start(database, settings).await?;
    Ok(Arc::new(services.channels(CHANNELS).await?.into_iter().map(CatalogServiceClient::new).collect()))
}

/// The share of `queries` whose first page holds the title each was made from.
async fn found(clients: &Clients, queries: &[(String, String)]) -> anyhow::Result<f64> {
    let mut client = clients[0].clone();
    let mut hits = 0;
    for (slug, query) in queries {
        let page = client.search_titles(SearchTitlesRequest { query: query.clone(), ..Default::default() }).await?;
        hits +=
            usize::from(page.into_inner().titles.iter().any(|t| t.fields.as_ref().is_some_and(|f| &f.slug == slug)));
    }
    Ok(hits as f64 / queries.len().max(1) as f64)
}

pub async fn run(database: &DatabaseSettings, duration: Duration, runs: usize) -> anyhow::Result<serde_json::Value> {
    let rate: u32 = env_or("BENCH_SEARCH_RATE", 200);
    let titles: i64 = env_or("BENCH_SEARCH_TITLES", 40_000);
    eprintln!("search: {rate} req/s for {} s per phase; seeding {titles} published titles", duration.as_secs());
    let pool = db::pool(database)?;
    corpus::seed(&pool, titles).await?;
    let vocabulary: i64 = sqlx::query_scalar("SELECT count(*) FROM catalog.search_words").fetch_one(&pool).await?;
    // The correction lookup must go through the trigram index, not read every word.
    let plan: Vec<String> = sqlx::query_scalar("EXPLAIN SELECT word FROM catalog.search_words WHERE word % 'strnger'")
        .fetch_all(&pool)
        .await?;
    let lookup_uses_index = plan.iter().any(|line| line.contains("search_words_trgm_idx"));
    eprintln!("vocabulary: {vocabulary} words; correction lookup plan: {}", plan.join(" / "));

    let queries = corpus::queries(&pool, QUERIES).await?;
    let exact: Vec<(String, String)> = queries.iter().map(|q| (q.slug.clone(), q.exact.clone())).collect();
    let misspelt: Vec<(String, String)> =
        queries.iter().filter_map(|q| Some((q.slug.clone(), q.misspelt.clone()?))).collect();
    eprintln!("queries: {} as written, {} misspelt, e.g. {:?}", exact.len(), misspelt.len(), misspelt.first());
    let (plain, fuzzy) = (clients(database, false).await?, clients(database, true).await?);
    let mut recall = serde_json::Map::new();
    for (name, clients) in [("full_text_only", &plain), ("fuzzy", &fuzzy)] {
        let (written, typo) = (found(clients, &exact).await?, found(clients, &misspelt).await?);
        eprintln!(
            "{name}: first page holds the title for {:.1}% as written, {:.1}% misspelt",
            written * 100.0,
            typo * 100.0
        );
        recall.insert(name.into(), json!({ "as_written": written, "misspelt": typo }));
    }

    let texts = |list: &[(String, String)]| Arc::new(list.iter().map(|(_, q)| q.clone()).collect::<Vec<_>>());
    let (exact, misspelt) = (texts(&exact), texts(&misspelt));
    let names = ["full-text only, as written", "fuzzy, as written", "full-text only, misspelt", "fuzzy, misspelt"];
    let sides = [(&plain, &exact), (&fuzzy, &exact), (&plain, &misspelt), (&fuzzy, &misspelt)];
    // SearchTitles (the first page, as a visitor) for one query after another.
    let search = |clients: &Clients, queries: &Arc<Vec<String>>| {
        let (clients, queries) = (clients.clone(), queries.clone());
        move |i: u64| {
            let mut client = clients[i as usize % CHANNELS].clone();
            let query = queries[i as usize % queries.len()].clone();
            async move { client.search_titles(SearchTitlesRequest { query, ..Default::default() }).await.is_ok() }
        }
    };
    let mut phases: [Vec<Run>; 4] = Default::default();
    for round in 1..=runs {
        for (i, (clients, queries)) in sides.iter().enumerate() {
            eprintln!("search round {round}/{runs}, phase {}/4: {}", i + 1, names[i]);
            phases[i].push(fixed_rate(rate, duration, search(clients, queries)).await);
        }
    }
    report(rate, duration, runs, titles, vocabulary, lookup_uses_index, recall, &names, &phases)
}

#[allow(clippy::too_many_arguments)]
fn report(
    rate: u32,
    duration: Duration,
    runs: usize,
    titles: i64,
    vocabulary: i64,
    lookup_uses_index: bool,
    recall: serde_json::Map<String, serde_json::Value>,
    names: &[&str; 4],
    phases: &[Vec<Run>; 4],
) -> anyhow::Result<serde_json::Value> {
    let table = Phases { names, rounds: phases };
    let p = |phase: usize, q: f64| table.percentile(phase, q);
    let summary =
        table.print(&format!("SearchTitles at {rate} req/s on {titles} titles, median of {runs} rounds (min–max)"));
    let exact_ratio = Spread::ratio(&p(1, 99.0), &p(0, 99.0));
    let misspelt_ratio = Spread::ratio(&p(3, 99.0), &p(2, 99.0));
    println!("p99 fuzzy / full-text only: as written {exact_ratio}, misspelt {misspelt_ratio}");

    // "text" is the full-text search alone (fuzzy off).
    let title = format!("Catalog: SearchTitles at {rate} req/s on {titles} titles, median of {runs}");
    summary.chart(&title, "catalog-search", &["text", "fuzzy", "text, typo", "fuzzy, typo"])?;
    let figures = |i: usize| summary.figures(i);
    Ok(json!({
        "rate_rps": rate,
        "seconds_per_phase": duration.as_secs(),
        "runs": runs,
        "titles": titles,
        "vocabulary_words": vocabulary,
        "correction_lookup_uses_trigram_index": lookup_uses_index,
        "order": "full-text only and fuzzy in turn, as written then misspelt, round after round; figures are medians over the rounds",
        "full_text_only_as_written": figures(0),
        "fuzzy_as_written": figures(1),
        "full_text_only_misspelt": figures(2),
        "fuzzy_misspelt": figures(3),
        "as_written_p99_fuzzy_over_full_text_only": exact_ratio.json(),
        "misspelt_p99_fuzzy_over_full_text_only": misspelt_ratio.json(),
        "first_page_holds_the_title": recall,
        "rounds_p99_ms": names.iter().enumerate().map(|(i, name)| (name.to_string(), json!(p(i, 99.0)))).collect::<serde_json::Map<_, _>>(),
    }))
}
