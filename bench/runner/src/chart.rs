//! SVG bar charts for the result files: one group of bars per measured quantity, one bar per
//! contender, each labelled with its value, so a chart reads without its JSON.

use std::fmt::Write;

/// One panel: a quantity (with its unit) measured for each contender.
pub struct Panel<'a> {
    pub title: &'a str,
    pub unit: &'a str,
    pub bars: Vec<(&'a str, f64)>,
}

const PANEL_W: f64 = 360.0;
const PANEL_H: f64 = 260.0;
const TOP: f64 = 56.0;
const COLOURS: [&str; 4] = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759"];

/// Draws the panels side by side under a heading and a caption (the machine, say).
pub fn bar_chart(heading: &str, caption: &str, panels: &[Panel<'_>]) -> String {
    let mut body = String::new();
    for (i, panel) in panels.iter().enumerate() {
        draw_panel(&mut body, PANEL_W * i as f64, panel);
    }
    document(heading, caption, (PANEL_W * panels.len().max(1) as f64, TOP + PANEL_H + 40.0), &body)
}

/// An SVG document of at least `size`, wide enough for its heading too (bold 16 px
/// sans-serif: about 9.5 px a character): white, the heading and caption on top, `body`
/// under them.
pub(crate) fn document(heading: &str, caption: &str, (width, height): (f64, f64), body: &str) -> String {
    let width = width.max(24.0 + 9.5 * heading.chars().count() as f64);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="12" y="22" font-size="16" font-weight="bold">{}</text>
<text x="12" y="40" fill="#555">{}</text>
"##,
        escape(heading),
        escape(caption)
    );
    svg.push_str(body);
    svg.push_str("</svg>\n");
    svg
}

fn draw_panel(svg: &mut String, x0: f64, panel: &Panel<'_>) {
    let max = panel.bars.iter().map(|b| b.1).filter(|v| v.is_finite()).fold(0.0_f64, f64::max);
    let scale = if max > 0.0 { (PANEL_H - 90.0) / max } else { 0.0 };
    let base = TOP + PANEL_H - 40.0;
    let slot = (PANEL_W - 40.0) / panel.bars.len().max(1) as f64;
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle" font-weight="bold">{} ({})</text>"#,
        x0 + PANEL_W / 2.0,
        TOP + 12.0,
        escape(panel.title),
        escape(panel.unit)
    );
    let _ = writeln!(
        svg,
        r##"<line x1="{}" y1="{base}" x2="{}" y2="{base}" stroke="#333"/>"##,
        x0 + 20.0,
        x0 + PANEL_W - 20.0
    );
    for (j, (label, value)) in panel.bars.iter().enumerate() {
        let h = if value.is_finite() { value * scale } else { 0.0 };
        let x = x0 + 20.0 + slot * j as f64 + slot * 0.15;
        let w = slot * 0.7;
        let _ = writeln!(
            svg,
            r#"<rect x="{x:.1}" y="{:.1}" width="{w:.1}" height="{h:.1}" fill="{}"/>"#,
            base - h,
            COLOURS[j % COLOURS.len()]
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            x + w / 2.0,
            base - h - 5.0,
            format_value(*value)
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            x + w / 2.0,
            base + 16.0,
            escape(label)
        );
    }
}

fn format_value(value: f64) -> String {
    match value {
        v if !v.is_finite() => "n/a".into(),
        v if v >= 100.0 => format!("{v:.0}"),
        v if v >= 10.0 => format!("{v:.1}"),
        v => format!("{v:.2}"),
    }
}

pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Writes `<name>.svg` beside the JSON results and says where.
pub fn write(name: &str, svg: &str) -> std::io::Result<()> {
    let path = crate::results_path(&format!("{name}.svg"));
    std::fs::write(&path, svg)?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_scaled_to_the_largest_value_and_labelled() {
        let svg = bar_chart(
            "Delivery",
            "2 cores",
            &[Panel { title: "throughput", unit: "req/s", bars: vec![("edge", 50.0), ("nginx <1.22>", 100.0)] }],
        );
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains(">50.0<") && svg.contains(">100<"));
        assert!(svg.contains("nginx &lt;1.22&gt;"));
        // The largest bar takes the full plotting height, the other half of it.
        assert!(svg.contains(r#"height="170.0""#) && svg.contains(r#"height="85.0""#));
    }
}
