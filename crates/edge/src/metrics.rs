//! Prometheus metrics at `/metrics`: requests by method, route and status, and their
//! latency as a histogram. Routes are the matched patterns (`/hls/{token}/{*rest}`), never
//! raw paths, so tokens and ids do not explode the label set.

use std::{
    collections::BTreeMap,
    fmt::Write,
    sync::{Arc, Mutex},
    time::Instant,
};

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// (method, route, status) of a series.
type SeriesKey = (String, String, u16);

#[derive(Clone, Default)]
pub(crate) struct Metrics {
    inner: Arc<Mutex<BTreeMap<SeriesKey, Series>>>,
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut inner = self.inner.lock().expect("metrics lock");
        let series = inner.entry((method.to_owned(), route.to_owned(), status)).or_default();
        series.count += 1;
        series.sum += seconds;
        for (bucket, bound) in series.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
    }

    /// The Prometheus text exposition format.
    pub(crate) fn render(&self) -> String {
        let inner = self.inner.lock().expect("metrics lock");
        let mut out = String::from(
            "# HELP ottr_http_requests_total HTTP requests served by the edge.\n# TYPE ottr_http_requests_total counter\n",
        );
        for ((method, route, status), series) in inner.iter() {
            let _ = writeln!(
                out,
                "ottr_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {}",
                series.count
            );
        }
        out.push_str("# HELP ottr_http_request_duration_seconds Time to the response head.\n");
        out.push_str("# TYPE ottr_http_request_duration_seconds histogram\n");
        for ((method, route, status), series) in inner.iter() {
            let labels = format!("method=\"{method}\",route=\"{route}\",status=\"{status}\"");
            for (bound, count) in BUCKETS.iter().zip(series.buckets) {
                let _ = writeln!(out, "ottr_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}");
            }
            let _ = writeln!(out, "ottr_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", series.count);
            let _ = writeln!(out, "ottr_http_request_duration_seconds_sum{{{labels}}} {}", series.sum);
            let _ = writeln!(out, "ottr_http_request_duration_seconds_count{{{labels}}} {}", series.count);
        }
        out
    }
}

/// Middleware that records every request.
pub(crate) async fn record(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_owned();
    let response = next.run(request).await;
    metrics.observe(&method, &route, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_buckets_are_rendered_per_route_and_status() {
        let metrics = Metrics::default();
        metrics.observe("GET", "/api/v1/titles", 200, 0.003);
        metrics.observe("GET", "/api/v1/titles", 200, 0.3);
        let text = metrics.render();
        assert!(text.contains("ottr_http_requests_total{method=\"GET\",route=\"/api/v1/titles\",status=\"200\"} 2"));
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("le=\"0.5\"} 2"));
        assert!(text.contains(
            "ottr_http_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/titles\",status=\"200\"} 2"
        ));
    }
}
