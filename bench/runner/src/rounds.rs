//! Repeated, interleaved measurements: every side of a comparison runs N times in ABAB
//! order (A, B, A, B, …), so a slow minute on a shared machine lands on both sides
//! instead of on whichever ran second, and each ratio is reported as its median over the
//! rounds with the lowest and highest round beside it.

use std::fmt;

/// How many rounds: `--runs N` on the command line, else `BENCH_RUNS`, else 3.
pub fn runs() -> usize {
    let args: Vec<String> = std::env::args().collect();
    let from_args = args.iter().position(|a| a == "--runs").and_then(|i| args.get(i + 1)?.parse().ok());
    from_args.unwrap_or_else(|| crate::env_or("BENCH_RUNS", 3)).max(1)
}

/// The median of some rounds' values and their range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    /// The median (the mean of the middle two for an even count), lowest and highest.
    pub fn of(values: &[f64]) -> Self {
        if values.is_empty() {
            return Self { median: f64::NAN, min: f64::NAN, max: f64::NAN };
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let mid = sorted.len() / 2;
        let median =
            if sorted.len().is_multiple_of(2) { f64::midpoint(sorted[mid - 1], sorted[mid]) } else { sorted[mid] };
        Self { median, min: sorted[0], max: sorted[sorted.len() - 1] }
    }

    /// Round by round `a[i] / b[i]`: each round's two sides ran back to back.
    pub fn ratio(a: &[f64], b: &[f64]) -> Self {
        let ratios: Vec<f64> = a.iter().zip(b).map(|(a, b)| a / b).collect();
        Self::of(&ratios)
    }

    /// `{"median", "min", "max"}` for the result files.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({ "median": self.median, "min": self.min, "max": self.max })
    }
}

/// Open-loop phases measured round after round: each phase's percentile per round, and
/// their medians and ranges with the error counts, printed as one table.
pub struct Phases<'a> {
    pub names: &'a [&'a str],
    pub rounds: &'a [Vec<crate::Run>],
}

/// What [`Phases::print`] printed, per phase.
pub struct Summary {
    pub p50: Vec<Spread>,
    pub p99: Vec<Spread>,
    pub errors: Vec<u64>,
}

impl Phases<'_> {
    /// Percentile `q` of phase `phase`, one value per round.
    pub fn percentile(&self, phase: usize, q: f64) -> Vec<f64> {
        self.rounds[phase].iter().map(|run| run.percentile(q)).collect()
    }

    /// Prints `heading` and a row per phase: p50 and p99 (median, min–max) and errors.
    pub fn print(&self, heading: &str) -> Summary {
        let spread = |q: f64| (0..self.rounds.len()).map(|i| Spread::of(&self.percentile(i, q))).collect::<Vec<_>>();
        let (p50, p99) = (spread(50.0), spread(99.0));
        let errors: Vec<u64> = self.rounds.iter().map(|runs| runs.iter().map(|run| run.errors).sum()).collect();
        println!("{heading}");
        println!("{:<30} {:>24} {:>24} {:>8}", "", "p50 ms", "p99 ms", "errors");
        for (i, name) in self.names.iter().enumerate() {
            println!("{name:<30} {:>24} {:>24} {:>8}", format!("{:.3}", p50[i]), format!("{:.3}", p99[i]), errors[i]);
        }
        Summary { p50, p99, errors }
    }
}

impl Summary {
    /// Phase `i` for the result file: p50, p99 and its range, errors.
    pub fn figures(&self, i: usize) -> serde_json::Value {
        let (p50, p99) = (self.p50[i], self.p99[i]);
        serde_json::json!({ "p50_ms": p50.median, "p99_ms": p99.median, "p99_ms_range": [p99.min, p99.max], "errors": self.errors[i] })
    }

    /// The p50 and p99 panels of a bar chart, the phases labelled as `labels` says (a
    /// bar is 80 px wide: short labels), written to `bench/results/<name>.svg`.
    pub fn chart(&self, title: &str, name: &str, labels: &[&'static str]) -> anyhow::Result<()> {
        let bars = |spreads: &[Spread]| labels.iter().zip(spreads).map(|(l, s)| (*l, s.median)).collect();
        let panels = [
            crate::chart::Panel { title: "p50", unit: "ms", bars: bars(&self.p50) },
            crate::chart::Panel { title: "p99", unit: "ms", bars: bars(&self.p99) },
        ];
        crate::chart::write(name, &crate::chart::bar_chart(title, &crate::machine_caption(), &panels))?;
        Ok(())
    }
}

/// `1.04 (0.98–1.10)`, with two decimals.
impl fmt::Display for Spread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = f.precision().unwrap_or(2);
        write!(f, "{:.p$} ({:.p$}–{:.p$})", self.median, self.min, self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_ranges_and_paired_ratios() {
        assert_eq!(Spread::of(&[3.0, 1.0, 2.0]), Spread { median: 2.0, min: 1.0, max: 3.0 });
        assert_eq!(Spread::of(&[4.0, 1.0, 2.0, 3.0]).median, 2.5);
        assert!(Spread::of(&[]).median.is_nan());
        let ratio = Spread::ratio(&[2.0, 3.0, 8.0], &[1.0, 3.0, 2.0]);
        assert_eq!(ratio, Spread { median: 2.0, min: 1.0, max: 4.0 });
        assert_eq!(ratio.to_string(), "2.00 (1.00–4.00)");
        assert_eq!(format!("{ratio:.1}"), "2.0 (1.0–4.0)");
    }
}
