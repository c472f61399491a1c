//! The two progress bars of `ottr upload`, on standard error: bytes sent, then the
//! transcode's phase and percent. indicatif draws nothing when standard error is not a
//! terminal, so scripts and logs get only the plain lines printed on standard output.

use indicatif::{ProgressBar, ProgressStyle};

/// Thousandths: the transcode bar counts per mille for a smooth bar.
const TRANSCODE_STEPS: u64 = 1000;

fn style(template: &str) -> ProgressStyle {
    // The templates are constants, so a failure is a typo caught by the tests below.
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()).progress_chars("=> ")
}

/// Bytes of `filename` the edge holds, out of `length`, starting at `offset`.
pub(crate) fn upload_bar(filename: &str, length: u64, offset: u64) -> ProgressBar {
    let bar = ProgressBar::new(length).with_style(style(UPLOAD)).with_message(format!("uploading {filename}"));
    bar.set_position(offset);
    // The bytes sent by an earlier run are not this run's speed.
    bar.reset_eta();
    bar
}

const UPLOAD: &str = "{msg} [{bar:32}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}";

/// The transcode: phase as the message, percent as the bar.
pub(crate) fn transcode_bar() -> ProgressBar {
    ProgressBar::new(TRANSCODE_STEPS).with_style(style(TRANSCODE)).with_message("queued")
}

const TRANSCODE: &str = "transcode [{bar:32}] {percent:>3}% {msg}";

/// Shows one progress event: `percent` (0 to 100) and a message such as
/// `transcoding, 2.1x, eta 40 s`.
pub(crate) fn show_transcode(bar: &ProgressBar, percent: f64, message: String) {
    let steps = (percent.clamp(0.0, 100.0) * TRANSCODE_STEPS as f64 / 100.0).round() as u64;
    bar.set_position(steps);
    bar.set_message(message);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_templates_parse() {
        for template in [UPLOAD, TRANSCODE] {
            assert!(ProgressStyle::with_template(template).is_ok(), "{template}");
        }
    }

    #[test]
    fn percent_maps_onto_the_bar_and_stays_inside_it() {
        let bar = ProgressBar::hidden();
        bar.set_length(TRANSCODE_STEPS);
        show_transcode(&bar, 42.5, "transcoding".into());
        assert_eq!(bar.position(), 425);
        show_transcode(&bar, 140.0, "ready".into());
        assert_eq!(bar.position(), TRANSCODE_STEPS);
    }
}
