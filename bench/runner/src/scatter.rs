//! SVG scatter charts: one panel per clip, each series a line through its points (bytes
//! against quality, say), so two products' curves read side by side without the JSON.

use std::fmt::Write;

use crate::chart::{document, escape};

/// One product's points in one panel, in the order they are joined.
pub struct Series<'a> {
    pub label: &'a str,
    pub points: Vec<(f64, f64)>,
}

/// One panel: a title, its axes' names, and the series drawn in it.
pub struct Plot<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub series: Vec<Series<'a>>,
}

const W: f64 = 360.0;
const H: f64 = 280.0;
const TOP: f64 = 56.0;
const MARGIN: f64 = 48.0;
const COLOURS: [&str; 4] = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759"];

/// The panels side by side under a heading and a caption.
pub fn scatter_chart(heading: &str, caption: &str, plots: &[Plot<'_>]) -> String {
    let mut body = String::new();
    for (i, plot) in plots.iter().enumerate() {
        draw(&mut body, W * i as f64, plot);
    }
    document(heading, caption, (W * plots.len().max(1) as f64, TOP + H + 30.0), &body)
}

/// The smallest and largest finite value, widened a little so no point sits on an edge.
fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.filter(|v| v.is_finite()).fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(v), h.max(v)));
    if lo > hi {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.08).max(hi.abs() * 1e-4).max(1e-9);
    (lo - pad, hi + pad)
}

fn draw(svg: &mut String, x0: f64, plot: &Plot<'_>) {
    let points = || plot.series.iter().flat_map(|s| s.points.iter().copied());
    let (x_lo, x_hi) = range(points().map(|p| p.0));
    let (y_lo, y_hi) = range(points().map(|p| p.1));
    let (left, right, top, bottom) = (x0 + MARGIN, x0 + W - 16.0, TOP + 24.0, TOP + H - 36.0);
    let px = |x: f64| left + (x - x_lo) / (x_hi - x_lo) * (right - left);
    let py = |y: f64| bottom - (y - y_lo) / (y_hi - y_lo) * (bottom - top);
    let _ = writeln!(
        svg,
        r##"<text x="{}" y="{}" text-anchor="middle" font-weight="bold">{}</text>
<rect x="{left}" y="{top}" width="{}" height="{}" fill="none" stroke="#333"/>
<text x="{}" y="{}" text-anchor="middle">{}</text>
<text x="{}" y="{}" text-anchor="middle" transform="rotate(-90 {} {})">{}</text>"##,
        x0 + W / 2.0,
        TOP + 12.0,
        escape(plot.title),
        right - left,
        bottom - top,
        (left + right) / 2.0,
        bottom + 30.0,
        escape(plot.x_label),
        x0 + 14.0,
        (top + bottom) / 2.0,
        x0 + 14.0,
        (top + bottom) / 2.0,
        escape(plot.y_label)
    );
    for (value, at) in [(x_lo, left), (x_hi, right)] {
        let _ =
            writeln!(svg, r#"<text x="{at:.1}" y="{:.1}" text-anchor="middle">{}</text>"#, bottom + 14.0, tick(value));
    }
    for (value, at) in [(y_lo, bottom), (y_hi, top)] {
        let _ = writeln!(svg, r#"<text x="{:.1}" y="{at:.1}" text-anchor="end">{}</text>"#, left - 3.0, tick(value));
    }
    for (k, series) in plot.series.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let path: Vec<String> = series
            .points
            .iter()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
            .collect();
        let _ = writeln!(svg, r#"<polyline points="{}" fill="none" stroke="{colour}"/>"#, path.join(" "));
        for point in &path {
            let (x, y) = point.split_once(',').unwrap_or(("0", "0"));
            let _ = writeln!(svg, r#"<circle cx="{x}" cy="{y}" r="3" fill="{colour}"/>"#);
        }
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" fill="{colour}">{}</text>"#,
            left + 6.0,
            top + 14.0 + 14.0 * k as f64,
            escape(series.label)
        );
    }
}

fn tick(value: f64) -> String {
    match value.abs() {
        v if v >= 100.0 => format!("{value:.0}"),
        v if v >= 1.0 => format!("{value:.2}"),
        _ => format!("{value:.4}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_span_the_panel_and_each_series_has_its_line() {
        let svg = scatter_chart(
            "Quality",
            "2 cores",
            &[Plot {
                title: "clip <a>",
                x_label: "kB",
                y_label: "SSIM",
                series: vec![
                    Series { label: "seed", points: vec![(100.0, 0.95), (200.0, 0.97)] },
                    Series { label: "ottr", points: vec![(80.0, 0.96)] },
                ],
            }],
        );
        assert!(svg.starts_with("<svg") && svg.contains("clip &lt;a&gt;"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 3);
        // The smallest x lands right of the left axis, the largest left of the right one.
        let xs: Vec<f64> =
            svg.split(r#"<circle cx=""#).skip(1).map(|rest| rest.split('"').next().unwrap().parse().unwrap()).collect();
        assert!(xs.iter().all(|&x| x > MARGIN && x < W - 16.0), "{xs:?}");
    }
}
