//! ffmpeg's `-progress pipe:1` output: blocks of `key=value` lines, each closed by
//! `progress=continue` (or `progress=end`). Parsed here, not scraped from the human
//! stats line.

/// One progress block.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sample {
    pub frame: u64,
    pub fps: f64,
    /// Media time encoded so far.
    pub out_time_secs: f64,
    /// Times real time; 0 when ffmpeg does not know yet.
    pub speed: f64,
    pub end: bool,
}

impl Sample {
    /// 0–100 of `duration`.
    pub fn percent(&self, duration: f64) -> f64 {
        if self.end {
            return 100.0;
        }
        if duration <= 0.0 { 0.0 } else { (self.out_time_secs / duration * 100.0).clamp(0.0, 100.0) }
    }

    /// Seconds left at the current speed, if it is known.
    pub fn eta_secs(&self, duration: f64) -> Option<f64> {
        (self.speed > 0.0 && !self.end).then(|| ((duration - self.out_time_secs).max(0.0)) / self.speed)
    }
}

#[derive(Debug, Default)]
pub struct Parser {
    current: Sample,
}

impl Parser {
    /// Feeds one line; returns the sample when the line closes a block.
    pub fn feed(&mut self, line: &str) -> Option<Sample> {
        let (key, value) = line.trim().split_once('=')?;
        let value = value.trim();
        match key {
            "frame" => self.current.frame = value.parse().unwrap_or(self.current.frame),
            "fps" => self.current.fps = value.parse().unwrap_or(0.0),
            // Both are microseconds (out_time_ms is misnamed in ffmpeg); "N/A" early on.
            "out_time_us" | "out_time_ms" => {
                if let Ok(us) = value.parse::<i64>() {
                    self.current.out_time_secs = (us.max(0) as f64) / 1_000_000.0;
                }
            }
            "speed" => self.current.speed = value.trim_end_matches('x').parse().unwrap_or(0.0),
            "progress" => {
                self.current.end = value == "end";
                return Some(self.current);
            }
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_become_samples_and_the_last_one_ends() {
        let text = "frame=90\nfps=45.5\nbitrate=N/A\nout_time_us=N/A\nspeed=N/A\nprogress=continue\n\
                    frame=180\nfps=60.0\nout_time_us=6000000\nout_time_ms=6000000\nspeed=2.5x\nprogress=continue\n\
                    frame=300\nfps=61.2\nout_time_us=10000000\nspeed=2.47x\nprogress=end\n";
        let mut parser = Parser::default();
        let samples: Vec<Sample> = text.lines().filter_map(|l| parser.feed(l)).collect();
        assert_eq!(samples.len(), 3);
        assert_eq!(samples[0].out_time_secs, 0.0);
        assert_eq!(samples[0].speed, 0.0);
        assert_eq!(samples[1], Sample { frame: 180, fps: 60.0, out_time_secs: 6.0, speed: 2.5, end: false });
        assert_eq!(samples[1].percent(10.0), 60.0);
        assert_eq!(samples[1].eta_secs(10.0), Some(1.6));
        assert!(samples[2].end);
        assert_eq!(samples[2].percent(10.0), 100.0);
        assert_eq!(samples[2].eta_secs(10.0), None);
    }
}
